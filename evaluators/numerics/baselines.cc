#include "evaluators/numerics/baselines.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <functional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "evaluators/numerics/fitting.h"

namespace evolv::numerics {
namespace {

using Function = std::function<long double(long double)>;

// A relative minimax error below this is at long double's resolution: no double program shows
// a difference past it.
constexpr long double kResolvedError = 1e-17L;

// Zeros of g on [lo, hi]: exact zeros on a grid of 2001 points and sign changes between them,
// refined by bisection; a zero is snapped to a double (or 0) where g vanishes exactly. Grid
// points within 1e-7 (hi - lo) of `avoid` (where g has a removable singularity) are moved off it.
std::vector<long double> FindZeros(const Function& g, long double lo, long double hi,
                                   const std::vector<long double>& avoid) {
  constexpr int kSamples = 2001;
  const long double delta = 1e-7L * (hi - lo);
  std::vector<long double> x(kSamples), y(kSamples);
  for (int i = 0; i < kSamples; ++i) {
    long double u = i == kSamples - 1 ? hi : lo + (hi - lo) * i / (kSamples - 1);
    for (long double a : avoid) {
      if (fabsl(u - a) < delta) u = a + delta <= hi ? a + delta : a - delta;
    }
    x[i] = u;
    y[i] = g(u);
  }
  std::vector<long double> zeros;
  auto add = [&](long double z) {
    for (long double snap : {0.0L, static_cast<long double>(static_cast<double>(z))}) {
      if (fabsl(snap - z) <= 1e-12L * (hi - lo) && snap >= lo && snap <= hi && g(snap) == 0) {
        z = snap;
        break;
      }
    }
    if (zeros.empty() || z - zeros.back() > delta) zeros.push_back(z);
  };
  for (int i = 0; i < kSamples; ++i) {
    if (y[i] == 0) {
      add(x[i]);
    } else if (i > 0 && y[i - 1] != 0 && std::signbit(y[i]) != std::signbit(y[i - 1])) {
      long double a = x[i - 1], b = x[i];
      const bool a_negative = y[i - 1] < 0;
      for (int it = 0; it < 200; ++it) {
        const long double mid = 0.5L * (a + b);
        if (mid <= a || mid >= b) break;
        const long double v = g(mid);
        if (v == 0) {
          a = b = mid;
          break;
        }
        ((v < 0) == a_negative ? a : b) = mid;
      }
      add(0.5L * (a + b));
    }
  }
  return zeros;
}

// One way of writing the target as a program: in u = x, or in u = s = (x - c)^2 times t = x - c
// (odd) or not (even), with `zeros` (in u) factored out: f = [t *] prod(u - z) h(u).
struct Form {
  bool symmetric = false;
  long double center = 0;
  bool odd = false;
  long double lo = 0, hi = 1;  // range of u over the interval
  std::vector<long double> zeros;
  bool relative = true;
  Function g;  // f as a function of u, divided by t when odd
  Function h;  // g / prod(u - z)
};

std::string Number(long double v) { return absl::StrFormat("%.6Lg", v); }

// "x*P2(x^2)/Q2(x^2)"; with m < 0 the degrees are left out ("x*P(x^2)/Q(x^2)").
std::string Label(const Form& form, int m, int n) {
  const bool t_is_x = form.center == 0;
  const std::string var = !form.symmetric ? "x" : t_is_x ? "x^2" : "t^2";
  std::string out;
  if (form.odd) absl::StrAppend(&out, t_is_x ? "x*" : "t*");
  for (long double z : form.zeros) {
    if (z == 0) {
      absl::StrAppend(&out, var, "*");
    } else {
      absl::StrAppend(&out, "(", var, z < 0 ? "+" : "-", Number(fabsl(z)), ")*");
    }
  }
  const std::string pm = m < 0 ? "" : absl::StrCat(m), qn = m < 0 ? "" : absl::StrCat(n);
  absl::StrAppend(&out, "P", pm, "(", var, ")");
  if (n > 0) absl::StrAppend(&out, "/Q", qn, "(", var, ")");
  if (form.symmetric && !t_is_x) absl::StrAppend(&out, ", t = x-", Number(form.center));
  return out;
}

// Builds a Program from operands named before the constant count is known.
class ProgramBuilder {
 public:
  struct Ref {
    enum Kind { kX, kConstant, kInstruction } kind;
    uint32_t index;
  };
  explicit ProgramBuilder(bool fma) : fma_(fma) {}

  Ref Constant(long double c) {
    constants_.push_back(static_cast<double>(c));
    return {Ref::kConstant, static_cast<uint32_t>(constants_.size() - 1)};
  }
  static constexpr Ref kXRef{Ref::kX, 0};
  Ref Emit(Op op, Ref a, Ref b, Ref c = kXRef) {
    ops_.push_back({op, a, b, c});
    return {Ref::kInstruction, static_cast<uint32_t>(ops_.size() - 1)};
  }
  // acc * u + c, one fma or a mul and an add.
  Ref MulAdd(Ref acc, Ref u, long double c) {
    if (fma_) return Emit(Op::kFma, acc, u, Constant(c));
    return Emit(Op::kAdd, Emit(Op::kMul, acc, u), Constant(c));
  }
  // p(u) by Horner; a constant (no instruction) for degree 0. With `monic`, p's leading
  // coefficient is taken as 1.
  Ref Horner(Ref u, const Polynomial& p, bool monic) {
    const int d = static_cast<int>(p.size()) - 1;
    if (d == 0) return Constant(p[0]);
    Ref acc = monic ? Emit(Op::kAdd, u, Constant(p[d - 1])) : MulAdd(Constant(p[d]), u, p[d - 1]);
    for (int k = d - 2; k >= 0; --k) acc = MulAdd(acc, u, p[k]);
    return acc;
  }
  bool HasInstructions() const { return !ops_.empty(); }

  Program Finish() const {
    Program prog;
    prog.constants = constants_;
    auto value = [&](Ref r) -> uint32_t {
      switch (r.kind) {
        case Ref::kX:
          return 0;
        case Ref::kConstant:
          return 1 + r.index;
        case Ref::kInstruction:
          return prog.value_of(r.index);
      }
      return 0;
    };
    for (const Pending& p : ops_) {
      prog.instructions.push_back(
          {p.op, value(p.a), value(p.b), p.op == Op::kFma ? value(p.c) : 0});
    }
    return prog;
  }

 private:
  struct Pending {
    Op op;
    Ref a, b, c;
  };
  bool fma_;
  std::vector<double> constants_;
  std::vector<Pending> ops_;
};

// t = x - center (x itself for centre 0) and u = t * t for a symmetric form; u = t = x else.
std::pair<ProgramBuilder::Ref, ProgramBuilder::Ref> EmitVariables(const Form& form,
                                                                  ProgramBuilder& b) {
  const ProgramBuilder::Ref x = ProgramBuilder::kXRef;
  ProgramBuilder::Ref t = x, u = x;
  if (form.symmetric) {
    if (form.center != 0) t = b.Emit(Op::kAdd, x, b.Constant(-form.center));
    u = b.Emit(Op::kMul, t, t);
  }
  return {t, u};
}

// The program [t *] prod(u - z) p(u) / q(u) for `form`; q monic (empty: polynomial). Fails
// (returns false) when the result would be a constant.
bool BuildProgram(const Form& form, const Polynomial& p, const Polynomial& q, bool fma,
                  Program* out) {
  ProgramBuilder b(fma);
  using Ref = ProgramBuilder::Ref;
  const auto [t, u] = EmitVariables(form, b);
  Ref r = b.Horner(u, p, false);
  if (!q.empty() && q.size() > 1) r = b.Emit(Op::kDiv, r, b.Horner(u, q, true));
  for (long double z : form.zeros) {
    r = b.Emit(Op::kMul, r, z == 0 ? u : b.Emit(Op::kAdd, u, b.Constant(-z)));
  }
  if (form.odd) r = b.Emit(Op::kMul, r, t);
  if (!b.HasInstructions() || r.kind != Ref::kInstruction) return false;
  *out = b.Finish();
  return true;
}

// The nested form of P_m / Q_n (Q monic, m >= n) in w = u - a, a = form.lo:
//   c_0 + w (c_1 + ... + w (c_k + r(w) / Q(w))),  k = m - n,  deg r < n,
// the same function with p = C Q + w^k r, C = c_0 + ... + c_k w^k.
struct Nested {
  Polynomial c, r, q;  // in w; q monic
};

// C's low coefficients follow from p's (Q(0) != 0: no pole at the anchor), then c_k and r from
// the quotient (p - C_{<k} Q) / w^k. False when m < n or Q (nearly) vanishes at the anchor.
bool Nest(const Form& form, const Polynomial& p_u, const Polynomial& q_u, Nested* out) {
  const int m = static_cast<int>(p_u.size()) - 1, n = static_cast<int>(q_u.size()) - 1;
  if (n < 1 || m < n) return false;
  const Polynomial p = Rebase(p_u, -form.lo, 1.0L), q = Rebase(q_u, -form.lo, 1.0L);
  long double q_scale = 0;
  for (long double v : q) q_scale = std::max(q_scale, fabsl(v));
  if (!(fabsl(q[0]) > 1e-12L * q_scale)) return false;
  const int k = m - n;
  Polynomial c(k + 1, 0.0L);
  Polynomial rest = p;  // p - C_{<k} Q: its coefficients below w^k vanish as C grows
  for (int j = 0; j < k; ++j) {
    c[j] = rest[j] / q[0];
    for (int i = 0; i <= n; ++i) rest[j + i] -= c[j] * q[i];
  }
  c[k] = rest[m] / q[n];
  Polynomial r(n, 0.0L);
  for (int i = 0; i < n; ++i) r[i] = rest[k + i] - c[k] * q[i];
  for (const Polynomial* poly : {&c, &r}) {
    for (long double v : *poly) {
      if (!std::isfinite(v)) return false;
    }
  }
  *out = {std::move(c), std::move(r), q};
  return true;
}

// The program [t *] prod(u - z) nested(w) for `form` (a zero at the anchor reuses w).
Program BuildNestedProgram(const Form& form, const Nested& nested, bool fma) {
  ProgramBuilder b(fma);
  using Ref = ProgramBuilder::Ref;
  const auto [t, u] = EmitVariables(form, b);
  const long double a = form.lo;
  const Ref w = a == 0 ? u : b.Emit(Op::kAdd, u, b.Constant(-a));
  const int k = static_cast<int>(nested.c.size()) - 1;
  Ref acc = b.Emit(Op::kDiv, b.Horner(w, nested.r, false), b.Horner(w, nested.q, true));
  acc = b.Emit(Op::kAdd, acc, b.Constant(nested.c[k]));
  for (int j = k - 1; j >= 0; --j) acc = b.MulAdd(acc, w, nested.c[j]);
  for (long double z : form.zeros) {
    acc = b.Emit(Op::kMul, acc, z == 0 ? u : z == a ? w : b.Emit(Op::kAdd, u, b.Constant(-z)));
  }
  if (form.odd) acc = b.Emit(Op::kMul, acc, t);
  return b.Finish();
}

bool UsesOnly(const Program& p, const std::vector<Op>& ops) {
  const std::vector<bool> live = LiveValues(p);
  for (size_t i = 0; i < p.instructions.size(); ++i) {
    if (live[p.value_of(i)] &&
        std::find(ops.begin(), ops.end(), p.instructions[i].op) == ops.end()) {
      return false;
    }
  }
  return true;
}

// Power series (coefficients c_0..) of h = g / prod(u - z) at u = a, to `terms` coefficients;
// g's series comes from `g_series(count)`. Empty when a zero of g at a does not cancel.
Polynomial SeriesOfH(const Form& form, long double a,
                     const std::function<Polynomial(int)>& g_series, int terms) {
  Polynomial d{1.0L};  // prod(u - z) in powers of w = u - a
  for (long double z : form.zeros) {
    Polynomial next(d.size() + 1, 0.0L);
    for (size_t k = 0; k < d.size(); ++k) {
      next[k] += d[k] * (a - z);
      next[k + 1] += d[k];
    }
    d = std::move(next);
  }
  int shift = 0;
  while (shift < static_cast<int>(d.size()) && d[shift] == 0) ++shift;
  Polynomial num = g_series(terms + shift);
  for (int k = 0; k < shift; ++k) {
    if (fabsl(num[k]) > 1e-15L * (fabsl(num[shift]) + 1e-300L)) return {};
  }
  num.erase(num.begin(), num.begin() + shift);
  d.erase(d.begin(), d.begin() + shift);
  d.resize(terms, 0.0L);
  Polynomial out(terms, 0.0L);
  for (int k = 0; k < terms; ++k) {
    long double acc = num[k];
    for (int j = 1; j <= k; ++j) acc -= d[j] * out[k - j];
    out[k] = acc / d[0];
  }
  return out;
}

// Padé [m/n] from series c (at least m + n + 1 terms): p and q in powers of w, q_0 = 1.
bool Pade(const Polynomial& c, int m, int n, Polynomial* p, Polynomial* q) {
  using Matrix = Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic>;
  using Vector = Eigen::Matrix<long double, Eigen::Dynamic, 1>;
  auto coef = [&](int i) { return i < 0 ? 0.0L : c[i]; };
  Matrix a(n, n);
  Vector rhs(n);
  for (int k = 1; k <= n; ++k) {
    for (int j = 1; j <= n; ++j) a(k - 1, j - 1) = coef(m + k - j);
    rhs[k - 1] = -coef(m + k);
  }
  Eigen::FullPivLU<Matrix> lu(a);
  if (!lu.isInvertible()) return false;
  const Vector sol = lu.solve(rhs);
  q->assign(n + 1, 1.0L);
  for (int j = 1; j <= n; ++j) (*q)[j] = sol[j - 1];
  p->assign(m + 1, 0.0L);
  for (int k = 0; k <= m; ++k) {
    for (int j = 0; j <= std::min(k, n); ++j) (*p)[k] += (*q)[j] * coef(k - j);
  }
  return std::isfinite(Horner(*p, 1.0L)) && std::isfinite(Horner(*q, 1.0L));
}

enum class Monic { kOk, kDegenerate, kPole };

// Divides p and q by q's leading coefficient. kDegenerate when that coefficient (nearly) vanishes
// on the range (the approximation is an [m/n-1] one); kPole, with `why`, when q changes sign on
// [lo, hi].
Monic MakeMonic(long double lo, long double hi, Polynomial* p, Polynomial* q, std::string* why) {
  const long double r = std::max(fabsl(lo), fabsl(hi));
  long double scale = 0;
  for (size_t k = 0; k < q->size(); ++k) scale = std::max(scale, fabsl((*q)[k]) * powl(r, k));
  const long double lead = q->back();
  if (!(fabsl(lead) * powl(r, q->size() - 1) > 1e-10L * scale)) return Monic::kDegenerate;
  const long double q_lo = Horner(*q, lo);
  for (int i = 0; i <= 2000; ++i) {
    const long double u = lo + (hi - lo) * i / 2000;
    if (!(Horner(*q, u) * q_lo > 0)) {
      *why = absl::StrCat("the denominator vanishes near ", Number(u), " (a pole)");
      return Monic::kPole;
    }
  }
  for (long double& v : *p) v /= lead;
  for (long double& v : *q) v /= lead;
  return Monic::kOk;
}

Form PlainForm(const Target& target, double lower, double upper,
               const std::vector<long double>& zeros) {
  Form form;
  form.lo = lower;
  form.hi = upper;
  form.g = [&target](long double x) { return target.reference(x); };
  if (static_cast<int>(zeros.size()) <= kMaxFactoredZeros) {
    form.zeros = zeros;
  } else {
    form.relative = false;
  }
  return form;
}

Form SymmetricForm(const Target& target, double lower, double upper, const Symmetry& sym) {
  Form form;
  form.symmetric = true;
  form.center = sym.center;
  form.odd = sym.odd;
  const long double t_lo = lower - sym.center, t_hi = upper - sym.center;
  long double side = 1;
  if (t_lo >= 0) {
    form.lo = t_lo * t_lo;
    form.hi = t_hi * t_hi;
  } else if (t_hi <= 0) {
    form.lo = t_hi * t_hi;
    form.hi = t_lo * t_lo;
    side = -1;
  } else {
    form.lo = 0;
    form.hi = std::max(t_lo * t_lo, t_hi * t_hi);
    side = -t_lo > t_hi ? -1 : 1;
  }
  const Target* f = &target;
  const long double c = sym.center;
  const bool odd = sym.odd;
  form.g = [f, c, odd, side](long double s) {
    const long double t = side * sqrtl(s);
    return odd ? f->reference(c + t) / t : f->reference(c + t);
  };
  const std::vector<long double> avoid =
      odd ? std::vector<long double>{0.0L} : std::vector<long double>{};
  const std::vector<long double> zeros = FindZeros(form.g, form.lo, form.hi, avoid);
  if (static_cast<int>(zeros.size()) <= kMaxFactoredZeros) {
    form.zeros = zeros;
  } else {
    form.relative = false;
  }
  return form;
}

// Where h has a removable singularity: the factored zeros, and s = 0 of an odd form.
std::vector<long double> Singular(const Form& form) {
  std::vector<long double> out = form.zeros;
  if (form.symmetric && form.odd) out.push_back(0.0L);
  return out;
}

void SetQuotient(Form* form) {
  if (!form->relative) {
    form->h = form->g;
    form->zeros.clear();
    return;
  }
  const Function g = form->g;
  const std::vector<long double> zeros = form->zeros;
  form->h = [g, zeros](long double u) {
    long double v = g(u);
    for (long double z : zeros) v /= u - z;
    return v;
  };
}

// What every family of one job shares: the budget, the ops and where baselines go.
struct FamilyContext {
  int max_ops;
  bool fma;
  const std::vector<Op>* ops;
  BaselineSet* out;
};

// Cost of the form's program for P_m / Q_n, or -1 when it has no instruction.
int SkeletonCost(const Form& form, int m, int n, bool fma) {
  Program p;
  const Polynomial q = n > 0 ? Polynomial(n + 1, 1.0L) : Polynomial{};
  if (!BuildProgram(form, Polynomial(m + 1, 1.0L), q, fma, &p)) return -1;
  return Cost(p);
}

// Cost of the nested form of P_m / Q_n, or -1 when there is none (m < n or n = 0).
int NestedSkeletonCost(const Form& form, int m, int n, bool fma) {
  if (n < 1 || m < n) return -1;
  const Nested skeleton{Polynomial(m - n + 1, 1.0L), Polynomial(n, 1.0L), Polynomial(n + 1, 1.0L)};
  return Cost(BuildNestedProgram(form, skeleton, fma));
}

void AddBaseline(const FamilyContext& ctx, const Form& form, const char* family, int m, int n,
                 const Polynomial& p, const Polynomial& q, bool nested = false) {
  Baseline b;
  b.family = family;
  const char* suffix = nested ? " nested" : "";
  b.form = absl::StrCat(Label(form, m, n), suffix);
  b.kind = absl::StrCat(family, " ", Label(form, -1, n), suffix);
  b.relative = form.relative;
  if (nested) {
    Nested parts;
    if (!Nest(form, p, q, &parts)) return;
    b.program = BuildNestedProgram(form, parts, ctx.fma);
  } else if (!BuildProgram(form, p, q, ctx.fma, &b.program)) {
    return;
  }
  b.ops = Cost(b.program);
  b.uses_allowed_ops = UsesOnly(b.program, *ctx.ops);
  ctx.out->baselines.push_back(std::move(b));
}

void Fail(const FamilyContext& ctx, const Form& form, const char* family, int m, int n,
          std::string reason) {
  ctx.out->failures.push_back({absl::StrCat(family, " ", Label(form, m, n)), std::move(reason)});
}

using Series = std::function<Polynomial(long double expansion, int terms)>;

struct FamilyOptions {
  // h's power series at an expansion point (in u), `terms` coefficients; empty when it has none.
  Series series;
  bool taylor = false;  // Taylor polynomials at taylor_at beside the minimax ones
  long double taylor_at = 0;
  bool pade = false;  // Padé approximants at pade_at beside the rational minimax ones
  long double pade_at = 0;
  bool rationals = true;  // rational minimax at all
  int extra_degrees = 0;  // polynomial degrees past the budget, for the table
};

// The minimax baselines of `form`, and the Taylor and Padé ones that `options` asks for.
void AddFamily(const FamilyContext& ctx, const Form& form, const FamilyOptions& options) {
  const int extra_degrees = options.extra_degrees;
  MinimaxGrid grid(form.h, form.lo, form.hi, form.relative, Singular(form));
  // Past the total degree m + n whose minimax reaches long double resolution, more terms change
  // nothing a double program can show: those fits are skipped.
  int resolved_degree = MinimaxGrid::kMaxDegree;
  auto note_resolution = [&](const RationalFit& fit, int degree) {
    if (form.relative && fit.max_error < kResolvedError) {
      resolved_degree = std::min(resolved_degree, degree);
    }
  };
  // Polynomials: from the first degree that has an instruction, through the budget.
  int over = 0;
  for (int m = 0; m <= kMaxPolynomialDegree && m <= resolved_degree; ++m) {
    const int cost = SkeletonCost(form, m, 0, ctx.fma);
    if (cost < 0) continue;
    if (form.symmetric && m == 0 && form.zeros.empty()) continue;  // s unused: the form in x
    if (cost > ctx.max_ops && ++over > extra_degrees) break;
    absl::StatusOr<RationalFit> fit = grid.Fit(m, 0);
    if (fit.ok()) {
      note_resolution(*fit, m);
      AddBaseline(ctx, form, "minimax", m, 0, fit->p, {});
    } else {
      Fail(ctx, form, "minimax", m, 0, std::string(fit.status().message()));
    }
    if (options.taylor) {
      Polynomial c = options.series(options.taylor_at, m + 1);
      if (c.empty()) {
        Fail(ctx, form, "taylor", m, 0, "no power series at the expansion point");
      } else {
        AddBaseline(ctx, form, "taylor", m, 0, Rebase(c, options.taylor_at, 1.0L), {});
      }
    }
  }
  // Rationals P_m / Q_n, n >= 1. A fit whose denominator's leading coefficient vanishes is the
  // [m/n-1] one, which the table has with fewer ops: skipped.
  for (int n = 1; options.rationals && n <= kMaxRationalDegree; ++n) {
    for (int m = 0; m + n <= kMaxRationalDegree && m + n <= resolved_degree; ++m) {
      const int cost = SkeletonCost(form, m, n, ctx.fma);
      const int nested_cost = NestedSkeletonCost(form, m, n, ctx.fma);
      const bool fits = cost >= 0 && cost <= ctx.max_ops;
      const bool nested_fits = nested_cost >= 0 && nested_cost <= ctx.max_ops;
      if (!fits && !nested_fits) continue;
      absl::StatusOr<RationalFit> fit = grid.Fit(m, n);
      if (!fit.ok()) {
        Fail(ctx, form, "minimax", m, n, std::string(fit.status().message()));
      } else {
        note_resolution(*fit, m + n);
        Polynomial p = fit->p, q = fit->q;
        std::string pole;
        const Monic monic = MakeMonic(form.lo, form.hi, &p, &q, &pole);
        if (monic == Monic::kOk && fits) AddBaseline(ctx, form, "minimax", m, n, p, q);
        if (monic == Monic::kOk && nested_fits) AddBaseline(ctx, form, "minimax", m, n, p, q, true);
        if (monic == Monic::kPole) Fail(ctx, form, "minimax", m, n, pole);
      }
      if (!options.pade || !fits) continue;
      const Polynomial c = options.series(options.pade_at, m + n + 1);
      Polynomial p, q;
      if (c.empty() || !Pade(c, m, n, &p, &q)) continue;  // a block of the Padé table
      p = Rebase(p, options.pade_at, 1.0L);
      q = Rebase(q, options.pade_at, 1.0L);
      std::string pole;
      const Monic monic = MakeMonic(form.lo, form.hi, &p, &q, &pole);
      if (monic == Monic::kOk) AddBaseline(ctx, form, "pade", m, n, p, q);
      if (monic == Monic::kPole) Fail(ctx, form, "pade", m, n, pole);
    }
  }
}

}  // namespace

TargetShape AnalyzeTarget(const Target& target, double lower, double upper) {
  TargetShape shape;
  for (int i = 0; i <= 2000; ++i) {
    const long double x =
        i == 2000 ? upper : lower + (static_cast<long double>(upper) - lower) * i / 2000;
    if (!std::isfinite(target.reference(x))) {
      shape.unusable = absl::StrFormat("%s is not finite at x = %.17Lg", target.name, x);
      return shape;
    }
  }
  shape.zeros =
      FindZeros([&target](long double x) { return target.reference(x); }, lower, upper, {});
  std::vector<long double> centers{0.0L};
  for (long double z : shape.zeros) {
    if (z != 0 && centers.size() <= kMaxFactoredZeros) centers.push_back(z);
  }
  for (long double c : centers) {
    const long double near = c < lower ? lower - c : c > upper ? c - upper : 0.0L;
    const long double far = std::max(fabsl(lower - c), fabsl(upper - c));
    bool even = true, odd = true;
    for (int k = 1; k <= 64 && (even || odd); ++k) {
      const long double t = near + (far - near) * k / 64;
      if (!(c - t > target.domain_lower) || !(c + t > target.domain_lower)) {
        even = odd = false;
        break;
      }
      const long double a = target.reference(c + t), b = target.reference(c - t);
      const long double tol = 1e-13L * (fabsl(a) + fabsl(b)) + 1e-300L;
      if (!(fabsl(a - b) <= tol)) even = false;
      if (!(fabsl(a + b) <= tol)) odd = false;
    }
    if (even != odd) shape.symmetries.push_back({c, odd});
  }
  return shape;
}

BaselineSet ComputeBaselineSet(const Target& target, double lower, double upper, int max_ops,
                               const std::vector<Op>& ops) {
  BaselineSet set;
  set.shape = AnalyzeTarget(target, lower, upper);
  if (!set.shape.unusable.empty()) {
    set.failures.push_back({"all baselines", set.shape.unusable});
    return set;
  }
  const bool fma = std::find(ops.begin(), ops.end(), Op::kFma) != ops.end();
  FamilyContext ctx{max_ops, fma, &ops, &set};

  Form plain = PlainForm(target, lower, upper, set.shape.zeros);
  SetQuotient(&plain);
  if (!plain.relative) {
    set.notes.push_back(absl::StrFormat(
        "%s has %d zeros on the interval (more than %d): the forms in x are fitted in absolute "
        "error",
        target.name, static_cast<int>(set.shape.zeros.size()), kMaxFactoredZeros));
  } else {
    for (long double z : plain.zeros) {
      set.notes.push_back(absl::StrFormat(
          "%s vanishes at x = %.17Lg: factored out, (x - z) * h(x) with h fitted in relative "
          "error%s",
          target.name, z,
          z == static_cast<double>(z) ? ""
                                      : " (z is not a double: relative error near it is limited by "
                                        "its rounding)"));
    }
  }
  const Target* f = &target;
  FamilyOptions plain_options;
  plain_options.series = [f, &plain](long double a, int terms) {
    return SeriesOfH(
        plain, a, [f, a](int count) { return TaylorCoefficients(*f, a, count - 1); }, terms);
  };
  plain_options.taylor = true;
  plain_options.taylor_at = lower;
  // Padé in x at the midpoint; where f is odd or even (Padé in s then) it is often degenerate.
  plain_options.pade = set.shape.symmetries.empty();
  plain_options.pade_at = 0.5L * (static_cast<long double>(lower) + upper);
  plain_options.rationals = plain.relative;
  plain_options.extra_degrees = 2;
  AddFamily(ctx, plain, plain_options);
  if (!plain.relative) {
    set.notes.push_back("rational and symmetric forms skipped: they need the zeros factored out");
    return set;
  }

  for (const Symmetry& sym : set.shape.symmetries) {
    Form form = SymmetricForm(target, lower, upper, sym);
    SetQuotient(&form);
    set.notes.push_back(
        absl::StrFormat("%s is %s about x = %.17Lg: forms %s in s = t^2, t = %s%s", target.name,
                        sym.odd ? "odd" : "even", sym.center, sym.odd ? "t * h(s)" : "h(s)",
                        sym.center == 0 ? "x" : absl::StrFormat("x - %.17Lg", sym.center),
                        form.relative ? "" : ", fitted in absolute error (too many zeros)"));
    const long double c = sym.center;
    const bool odd = sym.odd;
    FamilyOptions options;
    options.pade = c >= lower && c <= upper;  // Padé at the centre, inside the interval
    if (options.pade) {
      options.series = [f, c, odd, form](long double at, int terms) {
        return SeriesOfH(
            form, at,
            [f, c, odd](int count) {
              const Polynomial t = TaylorCoefficients(*f, c, 2 * count + 1);
              Polynomial g(count);
              for (int k = 0; k < count; ++k) g[k] = t[2 * k + (odd ? 1 : 0)];
              return g;
            },
            terms);
      };
    }
    AddFamily(ctx, form, options);
  }
  if (set.shape.symmetries.empty()) {
    set.notes.push_back(absl::StrCat(target.name, " has no odd or even symmetry on the interval"));
  }
  return set;
}

std::vector<BaselineRow> MeasureBaselines(const BaselineSet& set, const Samples& real_samples,
                                          const Samples& float_samples, bool refine_float) {
  const Samples refine_samples =
      refine_float ? EvenSubsample(float_samples, kMaxBaselineRefinePoints) : Samples{};
  std::vector<BaselineRow> rows;
  for (const Baseline& b : set.baselines) {
    BaselineRow row;
    row.baseline = &b;
    row.rel_error = MaxRelativeError(b.program, real_samples);
    if (!refine_float) {
      row.max_ulp = MaxUlpError(b.program, float_samples).max_ulp;
    } else {
      const FloatRefineResult refined = RefineFloatConstants(b.program, refine_samples);
      // Refined on every point: its own measure is the one on all of them.
      row.max_ulp = refine_samples.x.size() == float_samples.x.size()
                        ? refined.error.max_ulp
                        : MaxUlpError(refined.program, float_samples).max_ulp;
    }
    rows.push_back(row);
  }
  return rows;
}

Polynomial TaylorPolynomial(const Target& target, double lower, int degree) {
  return Rebase(TaylorCoefficients(target, lower, degree), lower, 1.0L);
}

Polynomial MinimaxPolynomial(const Target& target, double lower, double upper, int degree) {
  const TargetShape shape = AnalyzeTarget(target, lower, upper);
  if (!shape.unusable.empty()) return {};
  Form form = PlainForm(target, lower, upper, shape.zeros);
  SetQuotient(&form);
  const int m = degree - static_cast<int>(form.zeros.size());
  if (m < 0) return {};
  MinimaxGrid grid(form.h, form.lo, form.hi, form.relative, Singular(form));
  absl::StatusOr<RationalFit> fit = grid.Fit(m, 0);
  if (!fit.ok()) return {};
  Polynomial p = fit->p;
  for (long double z : form.zeros) {  // p * (x - z)
    Polynomial next(p.size() + 1, 0.0L);
    for (size_t k = 0; k < p.size(); ++k) {
      next[k] -= z * p[k];
      next[k + 1] += p[k];
    }
    p = std::move(next);
  }
  return p;
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

int SmallestFloatMinimaxDegree(const Target& target, double lower, double upper,
                               const Samples& float_samples, int max_degree, int* ops) {
  const TargetShape shape = AnalyzeTarget(target, lower, upper);
  if (!shape.unusable.empty()) return -1;
  Form form = PlainForm(target, lower, upper, shape.zeros);
  SetQuotient(&form);
  MinimaxGrid grid(form.h, form.lo, form.hi, form.relative, Singular(form));
  const int k = static_cast<int>(form.zeros.size());
  for (int d = std::max(1, k); d <= max_degree; ++d) {
    absl::StatusOr<RationalFit> fit = grid.Fit(d - k, 0);
    Program prog;
    if (!fit.ok() || !BuildProgram(form, fit->p, {}, false, &prog)) continue;
    if (MaxUlpError(prog, float_samples).max_ulp <= 1.0) {
      if (ops != nullptr) *ops = Cost(prog);
      return d;
    }
  }
  return -1;
}

}  // namespace evolv::numerics
