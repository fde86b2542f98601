#include "evaluators/numerics/baselines.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>

namespace evolv::numerics {
namespace {

using Matrix = Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic>;
using Vector = Eigen::Matrix<long double, Eigen::Dynamic, 1>;
constexpr long double kPi = 3.141592653589793238462643383279502884L;

// Coefficients of q(x) = p((x - shift) / scale) in monomials of x.
Polynomial Rebase(const Polynomial& p, long double shift, long double scale) {
  const size_t n = p.size();
  Polynomial out(n, 0.0L);
  // (x - shift)^k / scale^k expanded with binomial coefficients.
  for (size_t k = 0; k < n; ++k) {
    long double binom = 1;  // C(k, j)
    for (size_t j = 0; j <= k; ++j) {
      out[j] += p[k] * binom * powl(-shift, static_cast<long double>(k - j)) /
                powl(scale, static_cast<long double>(k));
      binom = binom * (k - j) / (j + 1);
    }
  }
  return out;
}

long double Horner(const Polynomial& p, long double x) {
  long double acc = 0;
  for (size_t k = p.size(); k-- > 0;) acc = acc * x + p[k];
  return acc;
}

}  // namespace

Polynomial TaylorPolynomial(const Target& target, double lower, int degree) {
  return Rebase(TaylorCoefficients(target, lower, degree), lower, 1.0L);
}

Polynomial MinimaxPolynomial(const Target& target, double lower, double upper, int degree) {
  const int n = degree + 2;
  const long double mid = 0.5L * (static_cast<long double>(lower) + upper);
  const long double half = 0.5L * (static_cast<long double>(upper) - lower);
  auto f = [&](long double t) { return target.reference(mid + half * t); };
  auto weight = [&](long double t) { return std::max(fabsl(f(t)), 1e-300L); };
  // Relative error of the polynomial a (in t) at t.
  auto err = [&](const Polynomial& a, long double t) { return (Horner(a, t) - f(t)) / weight(t); };

  const int grid_size = 4000;
  std::vector<long double> grid(grid_size);
  for (int j = 0; j < grid_size; ++j) grid[j] = -cosl(kPi * j / (grid_size - 1));

  std::vector<long double> ref(n);
  for (int i = 0; i < n; ++i) ref[i] = -cosl(kPi * i / (n - 1));
  Polynomial best;
  long double best_err = INFINITY;
  for (int iter = 0; iter < 60; ++iter) {
    Matrix a(n, n);
    Vector rhs(n);
    for (int i = 0; i < n; ++i) {
      long double pw = 1;
      for (int k = 0; k <= degree; ++k, pw *= ref[i]) a(i, k) = pw;
      a(i, degree + 1) = ((i % 2) ? -1.0L : 1.0L) * weight(ref[i]);
      rhs[i] = f(ref[i]);
    }
    const Vector sol = a.fullPivLu().solve(rhs);
    Polynomial poly(sol.data(), sol.data() + degree + 1);
    const long double level = fabsl(sol[degree + 1]);
    // Extrema: the largest |err| in each run of constant sign, refined by golden section.
    std::vector<long double> ext_t, ext_e;
    int j = 0;
    long double max_err = 0;
    while (j < grid_size) {
      const bool positive = err(poly, grid[j]) >= 0;
      int arg = j;
      long double m = -1;
      for (; j < grid_size && (err(poly, grid[j]) >= 0) == positive; ++j) {
        const long double e = fabsl(err(poly, grid[j]));
        if (e > m) m = e, arg = j;
      }
      long double lo = grid[std::max(arg - 1, 0)], hi = grid[std::min(arg + 1, grid_size - 1)];
      for (int g = 0; g < 40; ++g) {
        const long double m1 = lo + (hi - lo) * 0.381966L, m2 = hi - (hi - lo) * 0.381966L;
        if (fabsl(err(poly, m1)) > fabsl(err(poly, m2))) {
          hi = m2;
        } else {
          lo = m1;
        }
      }
      long double t = 0.5L * (lo + hi);
      if (fabsl(err(poly, t)) < m) t = grid[arg];
      ext_t.push_back(t);
      ext_e.push_back(fabsl(err(poly, t)));
      max_err = std::max(max_err, ext_e.back());
    }
    if (max_err < best_err) {
      best_err = max_err;
      best = poly;
    }
    if (static_cast<int>(ext_t.size()) < n) break;  // no alternation to exchange toward
    while (static_cast<int>(ext_t.size()) > n) {    // drop the smaller end
      if (ext_e.front() < ext_e.back()) {
        ext_t.erase(ext_t.begin());
        ext_e.erase(ext_e.begin());
      } else {
        ext_t.pop_back();
        ext_e.pop_back();
      }
    }
    ref = ext_t;
    if (max_err - level <= 1e-6L * max_err) break;
  }
  return Rebase(best, mid, half);
}

Program HornerProgram(const Polynomial& p) {
  const int degree = static_cast<int>(p.size()) - 1;
  Program prog;
  for (int k = degree; k >= 0; --k) prog.constants.push_back(static_cast<double>(p[k]));
  // Constant c_k is value degree - k + 1.
  uint32_t acc = 1;
  for (int k = degree - 1; k >= 0; --k) {
    const uint32_t mul = prog.value_of(prog.instructions.size());
    prog.instructions.push_back({Op::kMul, acc, 0, 0});
    prog.instructions.push_back({Op::kAdd, mul, static_cast<uint32_t>(degree - k + 1), 0});
    acc = mul + 1;
  }
  return prog;
}

std::vector<BaselineRow> ComputeBaselines(const Target& target, double lower, double upper,
                                          int max_ops, const Samples& real_samples,
                                          const Samples& float_samples) {
  std::vector<BaselineRow> rows;
  const int max_degree = std::max(1, max_ops / 2) + 2;
  for (int d = 1; d <= max_degree; ++d) {
    for (const char* method : {"taylor", "minimax"}) {
      const Polynomial p = std::string(method) == "taylor"
                               ? TaylorPolynomial(target, lower, d)
                               : MinimaxPolynomial(target, lower, upper, d);
      const Program prog = HornerProgram(p);
      BaselineRow row;
      row.method = method;
      row.degree = d;
      row.ops = 2 * d;
      row.rel_error = MaxRelativeError(prog, real_samples);
      row.max_ulp = MaxUlpError(prog, float_samples).max_ulp;
      rows.push_back(row);
    }
  }
  return rows;
}

int SmallestFloatMinimaxDegree(const Target& target, double lower, double upper,
                               const Samples& float_samples, int max_degree) {
  for (int d = 1; d <= max_degree; ++d) {
    const Program prog = HornerProgram(MinimaxPolynomial(target, lower, upper, d));
    if (MaxUlpError(prog, float_samples).max_ulp <= 1.0) return d;
  }
  return -1;
}

}  // namespace evolv::numerics
