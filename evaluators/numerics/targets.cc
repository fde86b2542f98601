#include "evaluators/numerics/targets.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "evaluators/numerics/cuda/reference_dd.h"

namespace evolv::numerics {
namespace {

using Series = std::vector<long double>;
constexpr long double kLn2 = 0.693147180559945309417232121458176568L;
constexpr long double kTwoOverSqrtPi = 1.128379167095512573896158903121545172L;

long double Exp(long double x) { return expl(x); }
long double Exp2(long double x) { return exp2l(x); }
long double Log(long double x) { return logl(x); }
long double Log2(long double x) { return log2l(x); }
long double Log1p(long double x) { return log1pl(x); }
long double Erf(long double x) { return erfl(x); }
long double Sin(long double x) { return sinl(x); }
long double Cos(long double x) { return cosl(x); }
long double Tanh(long double x) { return tanhl(x); }
long double Sigmoid(long double x) { return 1.0L / (1.0L + expl(-x)); }

// The double references are the device's own (cuda/reference_dd.h), so that the CPU's and the
// device's exhaustive verifications round the same doubles.
template <cuda::DeviceTarget kTarget>
double InDouble(double x) {
  return cuda::ReferenceDouble(kTarget, x);
}

constexpr long double kInf = std::numeric_limits<long double>::infinity();

const Target kTargets[] = {
    {"exp", Exp, InDouble<cuda::DeviceTarget::kExp>, -kInf, ""},
    {"exp2", Exp2, InDouble<cuda::DeviceTarget::kExp2>, -kInf, ""},
    {"log", Log, InDouble<cuda::DeviceTarget::kLog>, 0.0L, "x > 0"},
    {"log2", Log2, InDouble<cuda::DeviceTarget::kLog2>, 0.0L, "x > 0"},
    {"log1p", Log1p, InDouble<cuda::DeviceTarget::kLog1p>, -1.0L, "x > -1"},
    {"erf", Erf, InDouble<cuda::DeviceTarget::kErf>, -kInf, ""},
    {"sin", Sin, InDouble<cuda::DeviceTarget::kSin>, -kInf, ""},
    {"cos", Cos, InDouble<cuda::DeviceTarget::kCos>, -kInf, ""},
    {"tanh", Tanh, InDouble<cuda::DeviceTarget::kTanh>, -kInf, ""},
    {"sigmoid", Sigmoid, InDouble<cuda::DeviceTarget::kSigmoid>, -kInf, ""},
};

// Truncated power series in h (all of degree n).
Series ExpS(const Series& s) {
  Series e(s.size(), 0.0L);
  e[0] = expl(s[0]);
  for (size_t k = 1; k < s.size(); ++k) {
    long double acc = 0;
    for (size_t j = 1; j <= k; ++j) acc += j * s[j] * e[k - j];
    e[k] = acc / k;
  }
  return e;
}
Series LogS(const Series& s) {
  Series l(s.size(), 0.0L);
  l[0] = logl(s[0]);
  for (size_t k = 1; k < s.size(); ++k) {
    long double acc = 0;
    for (size_t j = 1; j < k; ++j) acc += j * l[j] * s[k - j];
    l[k] = (s[k] - acc / k) / s[0];
  }
  return l;
}
Series DivS(const Series& a, const Series& b) {
  Series q(a.size(), 0.0L);
  for (size_t k = 0; k < a.size(); ++k) {
    long double acc = a[k];
    for (size_t j = 1; j <= k; ++j) acc -= b[j] * q[k - j];
    q[k] = acc / b[0];
  }
  return q;
}
void SinCosS(const Series& s, Series* sn, Series* cs) {
  sn->assign(s.size(), 0.0L);
  cs->assign(s.size(), 0.0L);
  (*sn)[0] = sinl(s[0]);
  (*cs)[0] = cosl(s[0]);
  for (size_t k = 1; k < s.size(); ++k) {
    long double as = 0, ac = 0;
    for (size_t j = 1; j <= k; ++j) {
      as += j * s[j] * (*cs)[k - j];
      ac += j * s[j] * (*sn)[k - j];
    }
    (*sn)[k] = as / k;
    (*cs)[k] = -ac / k;
  }
}
Series Scale(Series s, long double f) {
  for (long double& v : s) v *= f;
  return s;
}
Series Constant(long double c, size_t n) {
  Series s(n, 0.0L);
  s[0] = c;
  return s;
}
Series AddS(Series a, const Series& b) {
  for (size_t k = 0; k < a.size(); ++k) a[k] += b[k];
  return a;
}

}  // namespace

const Target* FindTarget(const std::string& name) {
  for (const Target& t : kTargets) {
    if (name == t.name) return &t;
  }
  return nullptr;
}

std::string TargetNames() {
  std::string out;
  for (const Target& t : kTargets) {
    if (!out.empty()) out += ", ";
    out += t.name;
  }
  return out;
}

std::vector<long double> TaylorCoefficients(const Target& target, long double a, int degree) {
  const size_t n = static_cast<size_t>(degree) + 1;
  Series s(n, 0.0L);  // the identity series a + h
  s[0] = a;
  if (n > 1) s[1] = 1;
  const std::string name = target.name;
  Series out;
  if (name == "exp") {
    out = ExpS(s);
  } else if (name == "exp2") {
    out = ExpS(Scale(s, kLn2));
  } else if (name == "log") {
    out = LogS(s);
  } else if (name == "log2") {
    out = Scale(LogS(s), 1.0L / kLn2);
  } else if (name == "log1p") {
    out = LogS(AddS(s, Constant(1.0L, n)));
  } else if (name == "sin" || name == "cos") {
    Series sn, cs;
    SinCosS(s, &sn, &cs);
    out = name == "sin" ? sn : cs;
  } else if (name == "tanh") {  // 1 - 2 / (exp(2s) + 1)
    out =
        AddS(Constant(1.0L, n),
             Scale(DivS(Constant(2.0L, n), AddS(ExpS(Scale(s, 2.0L)), Constant(1.0L, n))), -1.0L));
  } else if (name == "sigmoid") {  // 1 / (1 + exp(-s))
    out = DivS(Constant(1.0L, n), AddS(Constant(1.0L, n), ExpS(Scale(s, -1.0L))));
  } else if (name == "erf") {  // erf(a) + integral of 2/sqrt(pi) exp(-s^2)
    Series sq(n, 0.0L);
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; i + j < n; ++j) sq[i + j] -= s[i] * s[j];
    }
    const Series d = Scale(ExpS(sq), kTwoOverSqrtPi);
    out.assign(n, 0.0L);
    for (size_t k = 1; k < n; ++k) out[k] = d[k - 1] / k;
  }
  out[0] = target.reference(a);  // the accurate value
  return out;
}

}  // namespace evolv::numerics
