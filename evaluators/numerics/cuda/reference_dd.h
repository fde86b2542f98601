// Correctly rounded float references of the numerics targets, in code that runs on the host and
// on a CUDA device alike.
//
// CorrectlyRoundedFloat follows verify_float.cc's rule: the target in double, rounded to float,
// unless the double lies within 2^-40 (relative) of a midpoint between two floats -- there the
// double's own error (a few ulp of double: glibc on the host, CUDA's libdevice on a device) could
// flip the rounding, and the value is recomputed in double-double arithmetic (about 104 bits),
// which decides it. The double-double functions use only +, -, *, / and fma, which are correctly
// rounded in IEEE double on both sides, so host and device compute the same bits on that path;
// tests compare them with glibc's long double functions on every float where double alone is
// ambiguous.
//
// Domain of the double-double path: |x| <= 2^20 for sin and cos (Cody-Waite reduction with a
// four-part pi/2), any float elsewhere (each target's own domain: x > 0 for log and log2,
// x > -1 for log1p). numerics jobs bound intervals to |x| <= 1e6 < 2^20.
#pragma once

#include <cmath>
#include <cstdint>

#include "evaluators/numerics/cuda/portable.h"

namespace evolv::numerics::cuda {

// The targets with a device reference, in targets.cc's order.
enum class DeviceTarget : uint8_t {
  kExp,
  kExp2,
  kLog,
  kLog2,
  kLog1p,
  kErf,
  kSin,
  kCos,
  kTanh,
  kSigmoid,
};
inline constexpr int kNumDeviceTargets = 10;
inline constexpr const char* kDeviceTargetNames[kNumDeviceTargets] = {
    "exp", "exp2", "log", "log2", "log1p", "erf", "sin", "cos", "tanh", "sigmoid"};

// The device target named `name`; false when there is none.
inline bool DeviceTargetByName(const char* name, DeviceTarget* out) {
  for (int i = 0; i < kNumDeviceTargets; ++i) {
    if (std::strcmp(name, kDeviceTargetNames[i]) == 0) {
      *out = static_cast<DeviceTarget>(i);
      return true;
    }
  }
  return false;
}

// An unevaluated sum hi + lo with |lo| <= ulp(hi) / 2.
struct DD {
  double hi, lo;
};

namespace dd {

EVOLV_HD inline double Fma(double a, double b, double c) {
#if defined(__CUDA_ARCH__)
  return __fma_rn(a, b, c);
#else
  return std::fma(a, b, c);
#endif
}

EVOLV_HD inline DD QuickTwoSum(double a, double b) {  // |a| >= |b|
  const double s = a + b;
  return {s, b - (s - a)};
}
EVOLV_HD inline DD TwoSum(double a, double b) {
  const double s = a + b;
  const double bb = s - a;
  return {s, (a - (s - bb)) + (b - bb)};
}
EVOLV_HD inline DD TwoProd(double a, double b) {
  const double p = a * b;
  return {p, Fma(a, b, -p)};
}
EVOLV_HD inline DD Add(DD a, DD b) {
  DD s = TwoSum(a.hi, b.hi);
  const DD t = TwoSum(a.lo, b.lo);
  s.lo += t.hi;
  s = QuickTwoSum(s.hi, s.lo);
  s.lo += t.lo;
  return QuickTwoSum(s.hi, s.lo);
}
EVOLV_HD inline DD Neg(DD a) { return {-a.hi, -a.lo}; }
EVOLV_HD inline DD Sub(DD a, DD b) { return Add(a, Neg(b)); }
EVOLV_HD inline DD Mul(DD a, DD b) {
  DD p = TwoProd(a.hi, b.hi);
  p.lo += a.hi * b.lo + a.lo * b.hi;
  return QuickTwoSum(p.hi, p.lo);
}
EVOLV_HD inline DD MulD(DD a, double b) {
  DD p = TwoProd(a.hi, b);
  p.lo += a.lo * b;
  return QuickTwoSum(p.hi, p.lo);
}
EVOLV_HD inline DD Div(DD a, DD b) {
  const double q1 = a.hi / b.hi;
  DD r = Sub(a, MulD(b, q1));
  const double q2 = r.hi / b.hi;
  r = Sub(r, MulD(b, q2));
  const double q3 = r.hi / b.hi;
  return Add(QuickTwoSum(q1, q2), DD{q3, 0});
}
EVOLV_HD inline DD Ldexp(DD a, int k) { return {::ldexp(a.hi, k), ::ldexp(a.lo, k)}; }
EVOLV_HD inline DD Of(double v) { return {v, 0}; }

// ln 2 in three parts, pi/2 in four, 1/ln 2 and 2/sqrt(pi) in two (each part the double nearest
// to what the earlier parts leave). Scalars: device code reads namespace-scope constexpr scalars,
// not arrays.
inline constexpr double kLn2A = 0x1.62e42fefa39efp-1, kLn2B = 0x1.abc9e3b39803fp-56,
                        kLn2C = 0x1.7b57a079a1934p-111;
inline constexpr double kPio2A = 0x1.921fb54442d18p+0, kPio2B = 0x1.1a62633145c07p-54,
                        kPio2C = -0x1.f1976b7ed8fbcp-110, kPio2D = 0x1.4cf98e804177dp-164;
inline constexpr double kInvLn2A = 0x1.71547652b82fep+0, kInvLn2B = 0x1.777d0ffda0d24p-56;
inline constexpr double kTwoOverSqrtPiA = 0x1.20dd750429b6dp+0,
                        kTwoOverSqrtPiB = 0x1.1ae3a914fed80p-56;
inline constexpr double kTwoOverPi = 0x1.45f306dc9c883p-1;

// e^r - 1 for |r| <= 0.36 (Taylor, 26 terms: the remainder is below 2^-110 relative).
EVOLV_HD inline DD Expm1Small(DD r) {
  DD t = Of(1);
  for (int n = 26; n >= 2; --n) t = Add(Of(1), Div(Mul(t, r), Of(n)));
  return Mul(t, r);
}

// e^a: a = k ln2 + r with |r| <= ln2 / 2, then 2^k (1 + expm1(r)).
EVOLV_HD inline DD Exp(DD a) {
  if (a.hi > 709.8) return Of(INFINITY);
  if (a.hi < -745.2) return Of(0);
  const double k = ::rint(a.hi * kInvLn2A);
  DD r = Sub(a, TwoProd(k, kLn2A));
  r = Sub(r, TwoProd(k, kLn2B));
  r = Sub(r, Of(k * kLn2C));
  return Ldexp(Add(Of(1), Expm1Small(r)), static_cast<int>(k));
}

EVOLV_HD inline DD Expm1(DD a) {
  if (::fabs(a.hi) <= 0.36) return Expm1Small(a);
  return Sub(Exp(a), Of(1));
}

// log a for a > 0: one Newton step y + a e^-y - 1 from the double log, which doubles its 52 bits.
EVOLV_HD inline DD Log(DD a) {
  const DD y = Of(::log(a.hi));
  return Add(y, Sub(Mul(a, Exp(Neg(y))), Of(1)));
}

// log(1 + x): the series for |x| < 2^-5 (24 terms), else log of the exact sum 1 + x.
EVOLV_HD inline DD Log1p(double x) {
  if (::fabs(x) >= 0x1p-5) return Log(TwoSum(1.0, x));
  DD t = Div(Of(1), Of(24));
  for (int n = 23; n >= 1; --n) t = Sub(Div(Of(1), Of(n)), MulD(t, x));
  return MulD(t, x);
}

// sin or cos of x, |x| <= 2^20: x = k pi/2 + r, |r| <= pi/4, then the Taylor series of r.
EVOLV_HD inline DD SinCos(double x, bool cosine) {
  const double k = ::rint(x * kTwoOverPi);
  DD r = Sub(Of(x), TwoProd(k, kPio2A));
  r = Sub(r, TwoProd(k, kPio2B));
  r = Sub(r, TwoProd(k, kPio2C));
  r = Sub(r, Of(k * kPio2D));
  const DD r2 = Mul(r, r);
  DD s = Of(1), c = Of(1);
  for (int n = 16; n >= 1; --n) {
    s = Sub(Of(1), Div(Mul(s, r2), Of((2.0 * n) * (2.0 * n + 1))));
    c = Sub(Of(1), Div(Mul(c, r2), Of((2.0 * n - 1) * (2.0 * n))));
  }
  s = Mul(s, r);
  const int quadrant = static_cast<int>(static_cast<int64_t>(k) & 3) + (cosine ? 1 : 0);
  switch (quadrant & 3) {
    case 0:
      return s;
    case 1:
      return c;
    case 2:
      return Neg(s);
    default:
      return Neg(c);
  }
}

// erf x: 2/sqrt(pi) sum (-1)^n x^(2n+1) / (n! (2n+1)) for |x| < 4.5, where the largest term
// costs at most 30 of the 104 bits; beyond, erf x rounds to +-1 with no float midpoint near.
EVOLV_HD inline DD Erf(double x) {
  if (::fabs(x) >= 4.5) return Of(x > 0 ? 1.0 : -1.0);
  const DD x2 = TwoProd(x, x);
  DD p = Of(x), sum = Of(x);
  for (int n = 1; n < 300; ++n) {
    p = Div(Neg(Mul(p, x2)), Of(n));
    const DD term = Div(p, Of(2.0 * n + 1));
    sum = Add(sum, term);
    if (n > x2.hi && ::fabs(term.hi) < 0x1p-110 * ::fabs(sum.hi)) break;
  }
  return Mul(sum, DD{kTwoOverSqrtPiA, kTwoOverSqrtPiB});
}

// tanh x = expm1(2x) / (expm1(2x) + 2); +-1 for |x| >= 20, where no float midpoint is near.
EVOLV_HD inline DD Tanh(double x) {
  if (::fabs(x) >= 20) return Of(x > 0 ? 1.0 : -1.0);
  const DD e = Expm1(Of(2 * x));
  return Div(e, Add(e, Of(2)));
}

// 1 / (1 + e^-x), as e^x / (1 + e^x) for x < 0 so that e^-x cannot overflow.
EVOLV_HD inline DD Sigmoid(double x) {
  if (x >= 0) return Div(Of(1), Add(Of(1), Exp(Of(-x))));
  const DD e = Exp(Of(x));
  return Div(e, Add(Of(1), e));
}

}  // namespace dd

// The target at x in double-double.
EVOLV_HD inline DD ReferenceDD(DeviceTarget t, double x) {
  switch (t) {
    case DeviceTarget::kExp:
      return dd::Exp(dd::Of(x));
    case DeviceTarget::kExp2:
      return dd::Exp(dd::MulD(DD{dd::kLn2A, dd::kLn2B}, x));
    case DeviceTarget::kLog:
      return dd::Log(dd::Of(x));
    case DeviceTarget::kLog2:
      return dd::Mul(dd::Log(dd::Of(x)), DD{dd::kInvLn2A, dd::kInvLn2B});
    case DeviceTarget::kLog1p:
      return dd::Log1p(x);
    case DeviceTarget::kErf:
      return dd::Erf(x);
    case DeviceTarget::kSin:
      return dd::SinCos(x, false);
    case DeviceTarget::kCos:
      return dd::SinCos(x, true);
    case DeviceTarget::kTanh:
      return dd::Tanh(x);
    default:
      return dd::Sigmoid(x);
  }
}

// The target at x in double (the fast path; verify_float.cc's reference_double on the host).
EVOLV_HD inline double ReferenceDouble(DeviceTarget t, double x) {
  switch (t) {
    case DeviceTarget::kExp:
      return ::exp(x);
    case DeviceTarget::kExp2:
      return ::exp2(x);
    case DeviceTarget::kLog:
      return ::log(x);
    case DeviceTarget::kLog2:
      return ::log2(x);
    case DeviceTarget::kLog1p:
      return ::log1p(x);
    case DeviceTarget::kErf:
      return ::erf(x);
    case DeviceTarget::kSin:
      return ::sin(x);
    case DeviceTarget::kCos:
      return ::cos(x);
    case DeviceTarget::kTanh:
      return ::tanh(x);
    default:
      return 1.0 / (1.0 + ::exp(-x));
  }
}

EVOLV_HD inline bool IsFinite(float v) { return (BitsOf(v) & 0x7f800000u) != 0x7f800000u; }

// The float next to finite v, toward +inf (up) or -inf.
EVOLV_HD inline float NextFloat(float v, bool up) {
  return FloatOfOrdered(OrderedOf(v) + (up ? 1 : -1));
}

// hi + lo rounded to the nearest float, ties to even.
EVOLV_HD inline float RoundToFloat(DD v) {
  float f = static_cast<float>(v.hi);
  if (v.hi != v.hi || v.hi - v.hi != 0) return f;  // NaN or infinite
  if (static_cast<double>(f) == v.hi) return f;    // lo is far below half an ulp
  // f and the float on the other side of hi; when hi rounded to infinity, those are the largest
  // float and infinity, and lo still decides at their midpoint.
  const bool overflow = !IsFinite(f);
  const bool up = overflow ? v.hi > 0 : v.hi > f;
  float other;
  if (overflow) {
    other = f;
    f = FloatOfBits((BitsOf(f) & 0x80000000u) | 0x7f7fffffu);
  } else {
    other = NextFloat(f, up);
  }
  const double midpoint = IsFinite(other)
                              ? 0.5 * (static_cast<double>(f) + static_cast<double>(other))
                              : (up ? 0x1.ffffffp+127 : -0x1.ffffffp+127);
  const double side = dd::Add(v, dd::Of(-midpoint)).hi;  // exact sign of hi + lo - midpoint
  if (side == 0) return (BitsOf(f) & 1u) == 0 ? f : other;
  return (side > 0) == up ? other : f;
}

// The fast path of correct rounding, shared by the CPU's verification (verify_float.cc) and the
// device's: true, with *out = float(y), when `y` (a target computed in double, far more accurate
// than 2^-40 relative) rounds to float the same way as the exact value must: it is a float, it
// is not finite as a float, or it lies more than 2^-40 |y| from the midpoint between the floats
// around it. False when only a more accurate reference can decide.
EVOLV_HD inline bool RoundsSafelyToFloat(double y, float* out) {
  const float yf = static_cast<float>(y);
  *out = yf;
  if (!IsFinite(yf) || y == static_cast<double>(yf)) return true;
  const float other = NextFloat(yf, y > yf);
  const double midpoint = 0.5 * (static_cast<double>(yf) + static_cast<double>(other));
  return ::fabs(y - midpoint) > ::ldexp(::fabs(y), -40);
}

// The target at x rounded correctly to float; *slow counts the floats that needed double-double.
EVOLV_HD inline float CorrectlyRoundedFloat(DeviceTarget t, float x, uint64_t* slow) {
  float y;
  if (RoundsSafelyToFloat(ReferenceDouble(t, x), &y)) return y;
  ++*slow;
  return RoundToFloat(ReferenceDD(t, x));
}

}  // namespace evolv::numerics::cuda
