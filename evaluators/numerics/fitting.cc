#include "evaluators/numerics/fitting.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <limits>

#include "search/rng.h"

namespace evolv::numerics {
namespace {

using Matrix = Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic>;
using Vector = Eigen::Matrix<long double, Eigen::Dynamic, 1>;
constexpr long double kInf = std::numeric_limits<long double>::infinity();

// Residuals and their Jacobian with respect to the free constants, by forward-mode
// differentiation through the live instructions.
class ResidualModel {
 public:
  ResidualModel(const Program& p, const Samples& s) : program_(p), samples_(s) {
    const std::vector<bool> live = LiveValues(p);
    for (size_t k = 0; k < p.constants.size(); ++k) {
      if (live[1 + k]) free_.push_back(k);
    }
    for (size_t i = 0; i < p.instructions.size(); ++i) {
      if (live[p.value_of(i)]) steps_.push_back(i);
    }
    for (long double y : s.y) scale_.push_back(y != 0 ? 1.0L / fabsl(y) : 1.0L);
  }

  int num_params() const { return static_cast<int>(free_.size()); }
  int num_points() const { return static_cast<int>(samples_.x.size()); }

  Vector Initial() const {
    Vector c(num_params());
    for (int j = 0; j < num_params(); ++j) c[j] = program_.constants[free_[j]];
    return c;
  }

  Program WithConstants(const Vector& c) const {
    Program p = program_;
    for (int j = 0; j < num_params(); ++j) p.constants[free_[j]] = static_cast<double>(c[j]);
    return p;
  }

  // Fills r (and J when non-null). Returns false when a residual is not finite.
  bool Evaluate(const Vector& c, Vector* r, Matrix* jac) const {
    const int n = num_points(), m = num_params();
    const size_t nv = program_.num_values();
    r->resize(n);
    if (jac) jac->resize(n, m);
    std::vector<long double> val(nv, 0.0L);
    std::vector<long double> d(jac ? nv * m : 0, 0.0L);  // d[v * m + j] = dval[v]/dc_j
    for (size_t k = 0; k < program_.constants.size(); ++k) val[1 + k] = program_.constants[k];
    for (int j = 0; j < m; ++j) {
      val[1 + free_[j]] = c[j];
      if (jac) d[(1 + free_[j]) * m + j] = 1.0L;
    }
    for (int i = 0; i < n; ++i) {
      val[0] = samples_.x[i];
      for (size_t idx : steps_) {
        const Instruction& in = program_.instructions[idx];
        const size_t v = program_.value_of(idx);
        const long double a = val[in.a], b = val[in.b];
        long double* dv = jac ? &d[v * m] : nullptr;
        const long double* da = jac ? &d[in.a * m] : nullptr;
        const long double* db = jac ? &d[in.b * m] : nullptr;
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
            const long double q = a / b;
            val[v] = q;
            for (int j = 0; dv && j < m; ++j) dv[j] = (da[j] - q * db[j]) / b;
            break;
          }
          case Op::kFma: {
            val[v] = fmal(a, b, val[in.c]);
            const long double* dc = jac ? &d[in.c * m] : nullptr;
            for (int j = 0; dv && j < m; ++j) dv[j] = da[j] * b + a * db[j] + dc[j];
            break;
          }
        }
      }
      const size_t res = program_.result();
      const long double ri = (val[res] - samples_.y[i]) * scale_[i];
      if (!std::isfinite(ri)) return false;
      (*r)[i] = ri;
      if (jac) {
        for (int j = 0; j < m; ++j) (*jac)(i, j) = d[res * m + j] * scale_[i];
      }
    }
    return true;
  }

  long double MaxAbs(const Vector& c) const {
    Vector r;
    if (!Evaluate(c, &r, nullptr)) return kInf;
    return r.size() ? r.cwiseAbs().maxCoeff() : 0.0L;
  }

 private:
  const Program& program_;
  const Samples& samples_;
  std::vector<size_t> free_;
  std::vector<size_t> steps_;
  std::vector<long double> scale_;
};

long double WeightedSse(const Vector& r, const Vector& w) {
  return (r.array().square() * w.array()).sum();
}

// Levenberg-Marquardt on sum w_i r_i^2; the damped step solves the augmented least-squares
// problem [sqrt(W) J; sqrt(lambda) D] delta = [-sqrt(W) r; 0] by QR (no normal equations).
Vector LevenbergMarquardt(const ResidualModel& model, Vector c, const Vector& w, int iterations,
                          long double* lambda_io) {
  const int n = model.num_points(), m = model.num_params();
  Vector r;
  Matrix jac;
  if (!model.Evaluate(c, &r, &jac)) return c;
  long double sse = WeightedSse(r, w);
  long double lambda = lambda_io ? *lambda_io : 1e-3L;
  const Vector sw = w.array().sqrt();
  int stalls = 0;
  for (int it = 0; it < iterations && lambda < 1e16L; ++it) {
    Matrix a(n + m, m);
    Vector rhs(n + m);
    a.topRows(n) = sw.asDiagonal() * jac;
    rhs.head(n) = -(sw.array() * r.array()).matrix();
    Vector diag = a.topRows(n).colwise().norm().transpose();
    for (int j = 0; j < m; ++j) diag[j] = std::max(diag[j], 1e-30L);
    a.bottomRows(m) = (std::sqrt(lambda) * diag).asDiagonal();
    rhs.tail(m).setZero();
    const Vector delta = a.colPivHouseholderQr().solve(rhs);
    const Vector trial = c + delta;
    Vector tr;
    Matrix tj;
    if (delta.allFinite() && model.Evaluate(trial, &tr, &tj) && WeightedSse(tr, w) < sse) {
      const long double new_sse = WeightedSse(tr, w);
      stalls = (sse - new_sse) <= 1e-10L * sse ? stalls + 1 : 0;
      c = trial;
      r = tr;
      jac = tj;
      sse = new_sse;
      lambda = std::max(lambda / 5, 1e-12L);
      if (stalls >= 3 || sse == 0) break;
    } else {
      lambda *= 8;
    }
  }
  if (lambda_io) *lambda_io = lambda;
  return c;
}

}  // namespace

FitResult FitConstants(const Program& p, const Samples& fit, uint64_t seed,
                       const FitOptions& options) {
  ResidualModel model(p, fit);
  const int n = model.num_points(), m = model.num_params();
  FitResult out{p, model.MaxAbs(model.Initial())};
  if (m == 0 || n == 0) return out;

  const Vector uniform = Vector::Constant(n, 1.0L / n);
  Rng rng(Mix64(seed ^ 0x9e3779b97f4a7c15ULL));
  std::vector<Vector> starts = {model.Initial()};
  for (int k = 0; k < options.restarts; ++k) {
    Vector s = model.Initial();
    for (int j = 0; j < m; ++j) {
      s[j] = (k % 2 == 0) ? s[j] * (1 + 0.5 * rng.Normal()) + 0.1 * rng.Normal() : rng.Normal();
    }
    starts.push_back(s);
  }
  // Least squares from every start; keep the best by max error.
  Vector best = model.Initial();
  long double best_err = model.MaxAbs(best);
  for (const Vector& s : starts) {
    const Vector c = LevenbergMarquardt(model, s, uniform, options.lm_iterations, nullptr);
    const long double e = model.MaxAbs(c);
    if (e < best_err) {
      best_err = e;
      best = c;
    }
  }
  if (!std::isfinite(best_err)) return out;

  // Lawson: reweight toward the points of largest error.
  Vector c = best;
  Vector w = uniform;
  long double lambda = 1e-6L;
  for (int it = 0; it < options.lawson_iterations && best_err > 0; ++it) {
    Vector r;
    if (!model.Evaluate(c, &r, nullptr)) break;
    Vector nw = (w.array() * r.array().abs()).matrix();
    const long double total = nw.sum();
    if (!(total > 0)) break;
    nw /= total;
    const long double floor = nw.maxCoeff() * 1e-12L;
    w = nw.array().max(floor).matrix();
    c = LevenbergMarquardt(model, c, w, 4, &lambda);
    lambda = std::max(lambda, 1e-9L);
    const long double e = model.MaxAbs(c);
    if (e < best_err) {
      best_err = e;
      best = c;
    }
  }
  out.program = model.WithConstants(best);
  // Re-measure with the constants as stored (rounded to double).
  out.max_rel_error =
      ResidualModel(out.program, fit).MaxAbs(ResidualModel(out.program, fit).Initial());
  return out;
}

}  // namespace evolv::numerics
