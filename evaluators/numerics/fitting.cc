#include "evaluators/numerics/fitting.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "evaluators/numerics/interpreter.h"
#include "search/rng.h"

namespace evolv::numerics {
namespace {

using Matrix = Eigen::MatrixXd;
using Vector = Eigen::VectorXd;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr long double kPi = 3.141592653589793238462643383279502884L;

// Residuals and their Jacobian with respect to the free constants, by forward-mode
// differentiation through the live instructions, in arithmetic S (double while fitting, long
// double for the reported error).
template <typename S>
class ResidualModel {
 public:
  // Uses the samples with the given indices (all when empty). Residuals are relative, or with
  // `float_ulps` scaled by 2^-floor(log2 |y|): in units of y's float ULP (up to the constant
  // 2^23), which is how FLOAT32 jobs are scored.
  ResidualModel(const Program& p, const Samples& s, const std::vector<int>& subset = {},
                bool float_ulps = false)
      : program_(p) {
    const std::vector<bool> live = LiveValues(p);
    for (size_t k = 0; k < p.constants.size(); ++k) {
      if (live[1 + k]) free_.push_back(k);
    }
    for (size_t i = 0; i < p.instructions.size(); ++i) {
      if (live[p.value_of(i)]) steps_.push_back(i);
    }
    auto add = [&](size_t i) {
      x_.push_back(static_cast<S>(s.x[i]));
      y_.push_back(static_cast<S>(s.y[i]));
      const long double y = s.y[i];
      long double scale = 1;
      if (y != 0 && std::isfinite(y))
        scale = float_ulps ? ldexpl(1.0L, -ilogbl(y)) : 1.0L / fabsl(y);
      scale_.push_back(static_cast<S>(scale));
    };
    if (subset.empty()) {
      for (size_t i = 0; i < s.x.size(); ++i) add(i);
    } else {
      for (int i : subset) add(i);
    }
  }

  int num_params() const { return static_cast<int>(free_.size()); }
  int num_points() const { return static_cast<int>(x_.size()); }

  Vector Initial() const {
    Vector c(num_params());
    for (int j = 0; j < num_params(); ++j) c[j] = program_.constants[free_[j]];
    return c;
  }

  Program WithConstants(const Vector& c) const {
    Program p = program_;
    for (int j = 0; j < num_params(); ++j) p.constants[free_[j]] = c[j];
    return p;
  }

  // Fills r (and J when non-null). Returns false when a residual is not finite.
  bool Evaluate(const Vector& c, Vector* r, Matrix* jac) const {
    const int n = num_points(), m = num_params();
    const size_t nv = program_.num_values();
    r->resize(n);
    if (jac) jac->resize(n, m);
    std::vector<S> val(nv, S(0));
    std::vector<S> d(jac ? nv * m : 0, S(0));  // d[v * m + j] = dval[v]/dc_j
    for (size_t k = 0; k < program_.constants.size(); ++k) {
      val[1 + k] = static_cast<S>(program_.constants[k]);
    }
    for (int j = 0; j < m; ++j) {
      val[1 + free_[j]] = static_cast<S>(c[j]);
      if (jac) d[(1 + free_[j]) * m + j] = S(1);
    }
    const size_t res = program_.result();
    for (int i = 0; i < n; ++i) {
      val[0] = x_[i];
      for (size_t idx : steps_) {
        const Instruction& in = program_.instructions[idx];
        const size_t v = program_.value_of(idx);
        const S a = val[in.a], b = val[in.b];
        S* dv = jac ? &d[v * m] : nullptr;
        const S* da = jac ? &d[in.a * m] : nullptr;
        const S* db = jac ? &d[in.b * m] : nullptr;
        switch (in.op) {
          case Op::kAdd:
            val[v] = a + b;
            for (int j = 0; dv && j < m; ++j) dv[j] = da[j] + db[j];
            break;
          case Op::kSub:
            val[v] = a - b;
            for (int j = 0; dv && j < m; ++j) dv[j] = da[j] - db[j];
            break;
          case Op::kMul:
            val[v] = a * b;
            for (int j = 0; dv && j < m; ++j) dv[j] = da[j] * b + a * db[j];
            break;
          case Op::kDiv: {
            const S q = a / b;
            val[v] = q;
            for (int j = 0; dv && j < m; ++j) dv[j] = (da[j] - q * db[j]) / b;
            break;
          }
          case Op::kFma: {
            val[v] = std::fma(a, b, val[in.c]);
            const S* dc = jac ? &d[in.c * m] : nullptr;
            for (int j = 0; dv && j < m; ++j) dv[j] = da[j] * b + a * db[j] + dc[j];
            break;
          }
        }
      }
      const S ri = (val[res] - y_[i]) * scale_[i];
      if (!std::isfinite(ri)) return false;
      (*r)[i] = static_cast<double>(ri);
      if (jac) {
        for (int j = 0; j < m; ++j) (*jac)(i, j) = static_cast<double>(d[res * m + j] * scale_[i]);
      }
    }
    return true;
  }

  // max |r_i| (+inf when a residual is not finite), computed in S.
  S MaxAbs(const Vector& c) const {
    Vector r;
    if (!Evaluate(c, &r, nullptr)) return std::numeric_limits<S>::infinity();
    S worst = 0;
    for (int i = 0; i < r.size(); ++i) worst = std::max<S>(worst, std::fabs(r[i]));
    return worst;
  }

 private:
  const Program& program_;
  std::vector<size_t> free_;
  std::vector<size_t> steps_;
  std::vector<S> x_, y_, scale_;
};

using FastModel = ResidualModel<double>;

double WeightedSse(const Vector& r, const Vector& w) {
  return (r.array().square() * w.array()).sum();
}

// Levenberg-Marquardt on sum w_i r_i^2; the damped step solves the augmented least-squares
// problem [sqrt(W) J; sqrt(lambda) D] delta = [-sqrt(W) r; 0] by QR (no normal equations).
// Stops after `iterations` or once accepted steps improve the sum by less than `stall_tol`
// (relative) twice in a row.
Vector LevenbergMarquardt(const FastModel& model, Vector c, const Vector& w, int iterations,
                          double stall_tol, double* lambda_io) {
  const int n = model.num_points(), m = model.num_params();
  Vector r, tr;
  Matrix jac, tj;
  if (!model.Evaluate(c, &r, &jac)) return c;
  double sse = WeightedSse(r, w);
  double lambda = lambda_io ? *lambda_io : 1e-3;
  const Vector sw = w.array().sqrt();
  Matrix a(n + m, m);
  Vector rhs(n + m);
  int stalls = 0;
  for (int it = 0; it < iterations && lambda < 1e16; ++it) {
    a.topRows(n) = sw.asDiagonal() * jac;
    rhs.head(n) = -(sw.array() * r.array()).matrix();
    // Marquardt scaling by column norms, floored relative to the largest: a constant the
    // residuals do not depend on (c/c, or one cancelled exactly) has a zero column, and an
    // absolute floor would make its step, and through back substitution every other one, huge.
    Vector diag = a.topRows(n).colwise().norm().transpose();
    const double floor = std::max(diag.maxCoeff() * 1e-9, 1e-300);
    for (int j = 0; j < m; ++j) diag[j] = std::max(diag[j], floor);
    a.bottomRows(m) = (std::sqrt(lambda) * diag).asDiagonal();
    rhs.tail(m).setZero();
    const Vector delta = a.householderQr().solve(rhs);
    const Vector trial = c + delta;
    double new_sse = kInf;
    if (delta.allFinite() && model.Evaluate(trial, &tr, &tj)) new_sse = WeightedSse(tr, w);
    if (new_sse < sse) {
      stalls = (sse - new_sse) <= stall_tol * sse ? stalls + 1 : 0;
      c = trial;
      r.swap(tr);
      jac.swap(tj);
      sse = new_sse;
      lambda = std::max(lambda / 5, 1e-12);
      if (stalls >= 2 || sse == 0) break;
    } else {
      lambda *= 8;
    }
  }
  if (lambda_io) *lambda_io = lambda;
  return c;
}

// Lawson rounds from `c`: reweights toward the points of largest error. Returns the constants
// with the smallest max |r_i| seen (starting with `c`, whose error is *best_err on entry).
Vector Lawson(const FastModel& model, const Vector& c0, int rounds, int patience,
              double* best_err) {
  const int n = model.num_points();
  Vector c = c0, best = c0, w = Vector::Constant(n, 1.0 / n), r;
  double lambda = 1e-6;
  int since_best = 0;
  for (int it = 0; it<rounds&& * best_err> 0 && since_best < patience; ++it) {
    if (!model.Evaluate(c, &r, nullptr)) break;
    Vector nw = (w.array() * r.array().abs()).matrix();
    const double total = nw.sum();
    if (!(total > 0) || !std::isfinite(total)) break;
    nw /= total;
    const double floor = nw.maxCoeff() * 1e-12;
    w = nw.array().max(floor).matrix();
    c = LevenbergMarquardt(model, c, w, 3, 0, &lambda);
    lambda = std::max(lambda, 1e-9);
    const double e = model.MaxAbs(c);
    if (e < *best_err) {
      since_best = e < 0.999 * *best_err ? 0 : since_best + 1;
      *best_err = e;
      best = c;
    } else {
      ++since_best;
    }
  }
  return best;
}

// Indices of the samples nearest to `count` Chebyshev nodes of [x.front(), x.back()], plus both
// ends; all indices when there are few samples. x is sorted.
std::vector<int> ScreeningSubset(const std::vector<long double>& x, int count) {
  std::vector<int> out;
  const int n = static_cast<int>(x.size());
  if (n <= count + 2) return out;  // empty: use everything
  const long double lo = x.front(), hi = x.back();
  const long double mid = 0.5L * (lo + hi), half = 0.5L * (hi - lo);
  out.push_back(0);
  for (int k = 0; k < count; ++k) {
    const long double t = mid - half * cosl(kPi * (k + 0.5L) / count);
    int i = static_cast<int>(std::lower_bound(x.begin(), x.end(), t) - x.begin());
    if (i == n || (i > 0 && t - x[i - 1] < x[i] - t)) --i;
    out.push_back(i);
  }
  out.push_back(n - 1);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

FitResult FitConstants(const Program& p, const Samples& fit, uint64_t seed,
                       const FitOptions& options) {
  const bool ulps = options.float_ulps;
  const ResidualModel<long double> exact(p, fit, {}, ulps);
  // The program's own error, in what the fit minimizes.
  const long double start_err = exact.MaxAbs(exact.Initial());
  FitResult out{p, start_err};
  // The reported error is relative whatever the fit minimized.
  auto relative = [&fit](const Program& q) {
    const ResidualModel<long double> model(q, fit);
    return model.MaxAbs(model.Initial());
  };
  if (ulps) out.max_rel_error = relative(p);
  const int m = exact.num_params();
  if (m == 0 || exact.num_points() == 0) return out;

  const std::vector<int> subset = ScreeningSubset(fit.x, options.screen_points);
  const FastModel screen(p, fit, subset, ulps);
  const int n = screen.num_points();
  const Vector uniform = Vector::Constant(n, 1.0 / n);
  Rng rng(Mix64(seed ^ 0x9e3779b97f4a7c15ULL));
  std::vector<Vector> starts = {screen.Initial()};
  for (int k = 0; m >= 2 && k < options.restarts; ++k) {
    Vector s = screen.Initial();
    for (int j = 0; j < m; ++j) {
      s[j] = (k % 2 == 0) ? s[j] * (1 + 0.5 * rng.Normal()) + 0.1 * rng.Normal() : rng.Normal();
    }
    starts.push_back(s);
  }
  // Least squares from every start; keep the best by max error.
  Vector best = screen.Initial();
  double best_err = screen.MaxAbs(best);
  for (const Vector& s : starts) {
    const Vector c = LevenbergMarquardt(screen, s, uniform, options.lm_iterations, 1e-4, nullptr);
    const double e = screen.MaxAbs(c);
    if (e < best_err) {
      best_err = e;
      best = c;
    }
  }
  if (!std::isfinite(best_err)) return out;
  best = Lawson(screen, best, options.lawson_iterations, options.lawson_patience, &best_err);

  if (!subset.empty() && options.polish_iterations > 0) {
    const FastModel all(p, fit, {}, ulps);
    double all_err = all.MaxAbs(best);
    if (all_err > 1.25 * best_err) {
      best = Lawson(all, best, options.polish_iterations, options.polish_iterations, &all_err);
    }
  }
  // Keep the program's own constants when the fit made things worse (measured exactly below).
  Program fitted = screen.WithConstants(best);
  const ResidualModel<long double> check(fitted, fit, {}, ulps);
  const long double fitted_err = check.MaxAbs(check.Initial());
  if (fitted_err <= start_err || !std::isfinite(start_err)) {
    out.program = std::move(fitted);
    out.max_rel_error = ulps ? relative(out.program) : fitted_err;
  }
  return out;
}

namespace {

// Float-mode score of a program: max ULP error, then how many samples reach it.
struct FloatScore {
  double max_ulp = std::numeric_limits<double>::infinity();
  size_t at_max = 0;
  float worst_x = 0;
  bool operator<(const FloatScore& o) const {
    return max_ulp != o.max_ulp ? max_ulp < o.max_ulp : at_max < o.at_max;
  }
};

// The score of outputs out[0..x.size()) against the correctly rounded `ref`.
FloatScore ScoreOutputs(const std::vector<float>& x, const std::vector<float>& ref,
                        const float* out) {
  FloatScore score;
  score.max_ulp = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    double e;
    if (!std::isfinite(out[i])) {
      e = out[i] == ref[i] ? 0.0 : std::numeric_limits<double>::infinity();
    } else {
      e = static_cast<double>(UlpDistance(out[i], ref[i]));
    }
    if (e > score.max_ulp) {
      score.max_ulp = e;
      score.at_max = 0;
      score.worst_x = x[i];
    }
    if (e == score.max_ulp) ++score.at_max;
  }
  return score;
}

FloatScore ScoreFloat(const Program& p, const std::vector<float>& x, const std::vector<float>& ref,
                      std::vector<float>& out) {
  CompiledProgram<float>(p).Run(x.data(), out.data(), x.size());
  return ScoreOutputs(x, ref, out.data());
}

float StepUlps(float v, int steps) {
  const float toward =
      steps > 0 ? std::numeric_limits<float>::infinity() : -std::numeric_limits<float>::infinity();
  for (int k = 0; k < std::abs(steps); ++k) v = std::nextafter(v, toward);
  return v;
}

}  // namespace

FloatRefineResult RefineFloatConstants(const Program& p, const Samples& s, int radius, int passes,
                                       const FloatBatchRunner& batch) {
  FloatRefineResult result;
  result.program = p;
  Program& q = result.program;
  for (double& c : q.constants) c = static_cast<float>(c);
  const std::vector<float> x(s.x.begin(), s.x.end());
  std::vector<float> ref(s.y.size()), out(x.size()), batched;
  for (size_t i = 0; i < ref.size(); ++i) ref[i] = static_cast<float>(s.y[i]);
  const std::vector<bool> live = LiveValues(q);
  FloatScore best = ScoreFloat(q, x, ref, out);
  const std::vector<double> start = q.constants;
  for (int pass = 0; pass < passes && best.max_ulp > 0; ++pass) {
    bool moved = false;
    for (size_t k = 0; k < q.constants.size(); ++k) {
      if (!live[1 + k]) continue;
      const float base = static_cast<float>(q.constants[k]);
      // The neighbours, in the order they are compared: -1, +1, -2, +2, ... ULPs.
      std::vector<Program> neighbours;
      for (int d = 1; d <= radius; ++d) {
        for (int sign : {-1, 1}) {
          const float v = StepUlps(base, sign * d);
          if (!std::isfinite(v)) continue;
          neighbours.push_back(q);
          neighbours.back().constants[k] = v;
        }
      }
      if (neighbours.empty()) continue;
      ++result.batches;
      std::vector<FloatScore> scores;
      if (batch && batch(neighbours, x, &batched) &&
          batched.size() == neighbours.size() * x.size()) {
        ++result.batches_by_runner;
        for (size_t j = 0; j < neighbours.size(); ++j) {
          scores.push_back(ScoreOutputs(x, ref, batched.data() + j * x.size()));
        }
      } else {
        for (const Program& n : neighbours) scores.push_back(ScoreFloat(n, x, ref, out));
      }
      float best_value = base;
      for (size_t j = 0; j < scores.size(); ++j) {
        if (scores[j] < best) {
          best = scores[j];
          best_value = static_cast<float>(neighbours[j].constants[k]);
        }
      }
      q.constants[k] = best_value;
      moved |= best_value != base;
    }
    if (!moved) break;
  }
  result.error.max_ulp = best.max_ulp;
  result.error.worst_x = best.worst_x;
  for (size_t k = 0; k < start.size(); ++k) result.changed_constants += start[k] != q.constants[k];
  return result;
}

}  // namespace evolv::numerics
