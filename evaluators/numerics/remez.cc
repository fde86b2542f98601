#include "evaluators/numerics/remez.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace evolv::numerics {
namespace {

using Matrix = Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic>;
using Vector = Eigen::Matrix<long double, Eigen::Dynamic, 1>;
constexpr long double kPi = 3.141592653589793238462643383279502884L;
constexpr int kMaxExchanges = 60;
constexpr int kMaxLevelIterations = 40;  // fixed-point iterations on E for a rational
// Max error / levelled error at which an approximation counts as minimax.
constexpr long double kAcceptRatio = 1.05L;
// Below this weighted error (times max |h| for absolute error) long double rounding dominates.
constexpr long double kNoiseFloor = 1e-17L;

// Monomial coefficients in v of sum c_k T_k(v).
Polynomial ChebyshevToMonomial(const std::vector<long double>& c) {
  const size_t n = c.size();
  Polynomial out(n, 0.0L);
  Polynomial prev(n, 0.0L), cur(n, 0.0L);  // T_{k-1}, T_k
  cur[0] = 1;
  for (size_t k = 0; k < n; ++k) {
    for (size_t j = 0; j <= k; ++j) out[j] += c[k] * cur[j];
    Polynomial next(n, 0.0L);  // 2 v T_k - T_{k-1} (T_1 = v)
    for (size_t j = 0; j + 1 < n; ++j) next[j + 1] += (k == 0 ? 1.0L : 2.0L) * cur[j];
    if (k > 0) {
      for (size_t j = 0; j < n; ++j) next[j] -= prev[j];
    }
    prev = std::move(cur);
    cur = std::move(next);
  }
  return out;
}

// Positions of the largest |e| of each run of one sign, trimmed to `points` by dropping the
// smaller end (fewer when the error alternates fewer times).
std::vector<int> Alternation(const std::vector<long double>& e, int points) {
  std::vector<int> extrema;
  const int size = static_cast<int>(e.size());
  for (int j = 0; j < size;) {
    const bool positive = e[j] >= 0;
    int arg = j;
    for (; j < size && (e[j] >= 0) == positive; ++j) {
      if (fabsl(e[j]) > fabsl(e[arg])) arg = j;
    }
    extrema.push_back(arg);
  }
  while (static_cast<int>(extrema.size()) > points) {
    if (fabsl(e[extrema.front()]) < fabsl(e[extrema.back()])) {
      extrema.erase(extrema.begin());
    } else {
      extrema.pop_back();
    }
  }
  return extrema;
}

}  // namespace

Polynomial Rebase(const Polynomial& p, long double shift, long double scale) {
  const size_t n = p.size();
  Polynomial out(n, 0.0L);
  // (u - shift)^k / scale^k expanded with binomial coefficients.
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

long double Horner(const Polynomial& p, long double u) {
  long double acc = 0;
  for (size_t k = p.size(); k-- > 0;) acc = acc * u + p[k];
  return acc;
}

MinimaxGrid::MinimaxGrid(std::function<long double(long double)> h, long double lower,
                         long double upper, bool relative, const std::vector<long double>& avoid)
    : lower_(lower),
      upper_(upper),
      mid_(0.5L * (lower + upper)),
      half_(0.5L * (upper - lower)),
      relative_(relative) {
  const long double delta = 1e-7L * (upper - lower);
  u_.resize(kGridPoints);
  for (int j = 0; j < kGridPoints; ++j) {
    long double u = j == 0                 ? lower
                    : j == kGridPoints - 1 ? upper
                                           : mid_ - half_ * cosl(kPi * j / (kGridPoints - 1));
    for (long double a : avoid) {
      if (fabsl(u - a) < delta) u = a + delta <= upper ? a + delta : a - delta;
    }
    u_[j] = u;
  }
  h_.resize(kGridPoints);
  w_.resize(kGridPoints);
  for (int j = 0; j < kGridPoints && grid_status_.ok(); ++j) {
    h_[j] = h(u_[j]);
    w_[j] = relative ? fabsl(h_[j]) : 1.0L;
    if (!std::isfinite(h_[j])) {
      grid_status_ = absl::FailedPreconditionError(absl::StrFormat("not finite at %.17Lg", u_[j]));
    } else if (w_[j] == 0) {
      grid_status_ = absl::FailedPreconditionError(
          absl::StrFormat("vanishes at %.17Lg (relative error undefined)", u_[j]));
    }
  }
  for (long double v : h_) scale_ = std::max(scale_, fabsl(v));
}

std::vector<int> MinimaxGrid::ChebyshevReference(int points) const {
  std::vector<int> reference;
  for (int i = 0; i < points; ++i) {
    const long double u = mid_ - half_ * cosl(kPi * i / (points - 1));
    const int j = static_cast<int>(std::lower_bound(u_.begin(), u_.end(), u) - u_.begin());
    int pick = std::min(j, kGridPoints - 1);
    if (pick > 0 && fabsl(u_[pick - 1] - u) < fabsl(u_[pick] - u)) --pick;
    if (!reference.empty() && pick <= reference.back()) pick = reference.back() + 1;
    reference.push_back(std::min(pick, kGridPoints - points + i));
  }
  return reference;
}

absl::StatusOr<RationalFit> MinimaxGrid::Fit(int m, int n) {
  if (!grid_status_.ok()) return grid_status_;
  if (m < 0 || n < 0 || m + n > kMaxDegree) {
    return absl::InvalidArgumentError(absl::StrFormat("degree [%d/%d] out of range", m, n));
  }
  // T_k at the grid points (v in [-1, 1]), extended to the degree needed.
  cheb_.resize(kGridPoints);
  for (int j = 0; j < kGridPoints; ++j) {
    std::vector<long double>& t = cheb_[j];
    const long double v = (u_[j] - mid_) / half_;
    if (t.empty()) t = {1.0L, v};
    while (static_cast<int>(t.size()) <= std::max(m, n)) {
      t.push_back(2 * v * t.back() - t[t.size() - 2]);
    }
  }
  const int points = m + n + 2;
  if (n == 0) {
    // From the Chebyshev extrema, else (an error that does not alternate enough from there, as
    // for an even h on a symmetric interval) from the Lawson fit's extrema.
    absl::StatusOr<RationalFit> fit = Remez(m, 0, ChebyshevReference(points));
    if (fit.ok()) return fit;
    std::vector<int> reference = LinearizedReference(m, 0);
    if (static_cast<int>(reference.size()) != points) return fit;
    absl::StatusOr<RationalFit> retry = Remez(m, 0, std::move(reference));
    return retry.ok() ? retry : fit;
  }
  // A rational's Remez converges only from a reference near its own; try, in order, the
  // references of the polynomial of degree m + n and of the neighbouring rationals of the same
  // total degree, then one from a linearized least-squares fit, then the Chebyshev extrema.
  if (references_.count({m + n, 0}) == 0) (void)Fit(m + n, 0);
  std::vector<std::vector<int>> starts;
  for (std::pair<int, int> key :
       {std::pair{m + n, 0}, std::pair{m + 1, n - 1}, std::pair{m - 1, n + 1}}) {
    auto it = references_.find(key);
    if (it != references_.end()) starts.push_back(it->second);
  }
  absl::StatusOr<RationalFit> first = absl::InternalError("no start");
  for (size_t i = 0; i <= starts.size() + 1; ++i) {
    std::vector<int> reference = i < starts.size()    ? starts[i]
                                 : i == starts.size() ? LinearizedReference(m, n)
                                                      : ChebyshevReference(points);
    if (static_cast<int>(reference.size()) != points) continue;
    absl::StatusOr<RationalFit> fit = Remez(m, n, std::move(reference));
    if (fit.ok()) return fit;
    if (i == 0 || first.status().code() == absl::StatusCode::kInternal) first = std::move(fit);
  }
  return first;
}

std::vector<int> MinimaxGrid::LinearizedReference(int m, int n) {
  // Loeb's iteration with Lawson weights: weighted least squares of (P - h Q) / (w Q_previous) on
  // every 4th grid point, the weights multiplied by |error| each round. The error extrema of the
  // best pole-free iterate make the reference.
  const int points = m + n + 2;
  std::vector<int> rows;
  for (int j = 0; j < kGridPoints; j += 4) rows.push_back(j);
  if (rows.back() != kGridPoints - 1) rows.push_back(kGridPoints - 1);
  const int r = static_cast<int>(rows.size());
  std::vector<long double> lambda(r, 1.0L / r), q_prev(r, 1.0L);
  std::vector<long double> best_e;
  long double best_max = INFINITY;
  for (int round = 0; round < 30; ++round) {
    Matrix a(r, m + n + 1);
    Vector rhs(r);
    for (int i = 0; i < r; ++i) {
      const int j = rows[i];
      const long double scale = sqrtl(lambda[i]) / (w_[j] * q_prev[i]);
      for (int k = 0; k <= m; ++k) a(i, k) = scale * cheb_[j][k];
      for (int k = 1; k <= n; ++k) a(i, m + k) = -scale * h_[j] * cheb_[j][k];
      rhs[i] = scale * h_[j];
    }
    const Vector sol = a.colPivHouseholderQr().solve(rhs);
    if (!sol.allFinite()) break;
    std::vector<long double> e(r);
    long double max_e = 0, sum = 0;
    bool pole = false;
    for (int i = 0; i < r && !pole; ++i) {
      const int j = rows[i];
      long double pv = 0, qv = 1;
      for (int k = 0; k <= m; ++k) pv += sol[k] * cheb_[j][k];
      for (int k = 1; k <= n; ++k) qv += sol[m + k] * cheb_[j][k];
      pole = !(qv > 0);
      q_prev[i] = qv;
      e[i] = (pv / qv - h_[j]) / w_[j];
      max_e = std::max(max_e, fabsl(e[i]));
    }
    if (pole) break;
    if (max_e < best_max) {
      best_max = max_e;
      best_e = e;
    }
    for (int i = 0; i < r; ++i) sum += lambda[i] *= fabsl(e[i]) + 1e-300L;
    for (long double& l : lambda) l /= sum;
  }
  std::vector<int> reference;
  if (best_e.empty()) return reference;
  for (int i : Alternation(best_e, points)) reference.push_back(rows[i]);
  return reference;
}

absl::StatusOr<RationalFit> MinimaxGrid::Remez(int m, int n, std::vector<int> reference) {
  const int points = m + n + 2;
  long double floor = kNoiseFloor;
  if (!relative_) floor *= scale_;

  struct Best {
    std::vector<long double> p, q;  // Chebyshev coefficients, q[0] = 1
    long double max_error = INFINITY, level = 0;
  } best;
  std::string stop_reason;
  long double level = 0;
  int exchanges = 0;
  std::vector<long double> p(m + 1), q(n + 1), e(kGridPoints), value(kGridPoints);
  for (; exchanges < kMaxExchanges; ++exchanges) {
    // Solve the levelled-error system, iterating on E in its product with Q.
    Vector sol;
    long double e_fixed = level;
    for (int it = 0; it < (n > 0 ? kMaxLevelIterations : 1); ++it) {
      Matrix a(points, points);
      Vector rhs(points);
      for (int i = 0; i < points; ++i) {
        const int j = reference[i];
        const long double sign = (i % 2) ? -1.0L : 1.0L;
        for (int k = 0; k <= m; ++k) a(i, k) = cheb_[j][k];
        for (int k = 1; k <= n; ++k) a(i, m + k) = -(h_[j] + sign * e_fixed * w_[j]) * cheb_[j][k];
        a(i, points - 1) = -sign * w_[j];
        rhs[i] = h_[j];
      }
      sol = a.fullPivLu().solve(rhs);
      const long double e_new = sol[points - 1];
      const bool settled = fabsl(e_new - e_fixed) <= 1e-13L * fabsl(e_new) + 1e-300L;
      e_fixed = e_new;
      if (settled) break;
    }
    if (!sol.allFinite()) {
      stop_reason = "singular reference system";
      break;
    }
    level = fabsl(sol[points - 1]);
    for (int k = 0; k <= m; ++k) p[k] = sol[k];
    q[0] = 1;
    for (int k = 1; k <= n; ++k) q[k] = sol[m + k];
    // Error on the grid; the denominator must keep its sign (no pole on the interval).
    long double max_error = 0;
    int pole = -1;
    for (int j = 0; j < kGridPoints; ++j) {
      long double pv = 0, qv = 0;
      for (int k = 0; k <= m; ++k) pv += p[k] * cheb_[j][k];
      for (int k = 0; k <= n; ++k) qv += q[k] * cheb_[j][k];
      if (!(qv > 0)) {
        pole = j;
        break;
      }
      value[j] = pv / qv;
      e[j] = (value[j] - h_[j]) / w_[j];
      max_error = std::max(max_error, fabsl(e[j]));
    }
    if (pole >= 0) {
      stop_reason = absl::StrFormat("the denominator vanishes near %.6Lg (a pole)", u_[pole]);
      break;
    }
    if (max_error < best.max_error) best = {p, q, max_error, level};
    if (max_error <= level * (1 + 1e-6L) || max_error <= floor) break;
    // Multiple exchange: the largest |error| of each run of one sign, trimmed at the ends.
    std::vector<int> extrema = Alternation(e, points);
    if (static_cast<int>(extrema.size()) < points) {
      stop_reason = absl::StrFormat("the error alternates %d times, %d needed",
                                    static_cast<int>(extrema.size()), points);
      break;
    }
    if (extrema == reference) {
      stop_reason = "the exchange stalled";
      break;
    }
    reference = std::move(extrema);
  }
  if (!std::isfinite(best.max_error) ||
      (best.max_error > kAcceptRatio * best.level && best.max_error > floor)) {
    if (stop_reason.empty()) stop_reason = absl::StrFormat("%d exchanges", exchanges);
    if (!std::isfinite(best.max_error)) {
      return absl::FailedPreconditionError(
          absl::StrCat("Remez found no approximation: ", stop_reason));
    }
    return absl::FailedPreconditionError(absl::StrFormat(
        "Remez did not converge: max error %.3Lg is %.3Lg times the levelled error (%s)",
        best.max_error, best.max_error / best.level, stop_reason));
  }
  references_[{m, n}] = reference;
  RationalFit fit;
  fit.p = Rebase(ChebyshevToMonomial(best.p), mid_, half_);
  fit.q = Rebase(ChebyshevToMonomial(best.q), mid_, half_);
  fit.max_error = best.max_error;
  fit.level = best.level;
  fit.exchanges = exchanges;
  return fit;
}

}  // namespace evolv::numerics
