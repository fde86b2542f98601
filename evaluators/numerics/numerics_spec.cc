#include "evaluators/numerics/numerics_spec.h"

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace evolv::numerics {
namespace {

// Points where the target is sampled to check it is representable over the interval. The
// targets are monotone or bounded, so the ends decide; the inner points catch the rest.
constexpr int kRepresentableSamples = 1024;

// OK when target(x) is finite, at most the largest value of the arithmetic, and not lost to
// underflow (a nonzero result below the smallest normal, or 0 where x's neighbours also give 0,
// which an isolated true zero such as sin(0) does not) at every sampled x of [lower, upper].
absl::Status CheckRepresentable(const ResolvedSpec& r) {
  const long double max = r.float32 ? FLT_MAX : LDBL_MAX;
  const long double min_normal = r.float32 ? FLT_MIN : LDBL_MIN;
  const char* arithmetic = r.float32 ? "float" : "long double";
  // The ends first, so that the message names the end that fails.
  for (int i = 0; i <= kRepresentableSamples; ++i) {
    const double x = i == 0   ? r.lower
                     : i == 1 ? r.upper
                              : r.lower + (r.upper - r.lower) * (i - 1) / kRepresentableSamples;
    const long double y = std::fabs(r.target->reference(x));
    const char* why = nullptr;
    if (!std::isfinite(y) || y > max) {
      why = "overflows";
    } else if (y != 0 && y < min_normal) {
      why = "underflows";
    } else if (y == 0 && r.target->reference(std::nextafter(x, -INFINITY)) == 0 &&
               r.target->reference(std::nextafter(x, INFINITY)) == 0) {
      why = "underflows to 0";
    }
    if (why == nullptr) continue;
    const bool near_lower = x - r.lower <= r.upper - x;
    return absl::InvalidArgumentError(
        absl::StrCat(near_lower ? "numerics.lower" : "numerics.upper", ": ", r.target->name, "(", x,
                     ") ", why, " in ", arithmetic, "; the target must be representable over [",
                     r.lower, ", ", r.upper, "]"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ResolvedSpec> ResolveSpec(const v1::NumericsSpec& n) {
  ResolvedSpec r;
  r.target = FindTarget(n.target());
  if (r.target == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("numerics.target: unknown target '", n.target(),
                                                   "' (one of ", TargetNames(), ")"));
  }
  if (!std::isfinite(n.lower())) {
    return absl::InvalidArgumentError(
        absl::StrCat("numerics.lower: must be finite, got ", n.lower()));
  }
  if (!std::isfinite(n.upper())) {
    return absl::InvalidArgumentError(
        absl::StrCat("numerics.upper: must be finite, got ", n.upper()));
  }
  if (!(n.lower() < n.upper())) {
    return absl::InvalidArgumentError(
        absl::StrCat("numerics.lower: interval is empty or reversed (lower ", n.lower(),
                     " >= upper ", n.upper(), ")"));
  }
  if (!(n.lower() > r.target->domain_lower)) {
    return absl::InvalidArgumentError(absl::StrCat("numerics.lower: ", r.target->name,
                                                   " is undefined on [", n.lower(), ", ", n.upper(),
                                                   "] (needs ", r.target->domain_text, ")"));
  }
  if (std::fabs(n.lower()) > kMaxIntervalMagnitude) {
    return absl::InvalidArgumentError(absl::StrCat("numerics.lower: |", n.lower(),
                                                   "| exceeds the limit ", kMaxIntervalMagnitude));
  }
  if (std::fabs(n.upper()) > kMaxIntervalMagnitude) {
    return absl::InvalidArgumentError(absl::StrCat("numerics.upper: |", n.upper(),
                                                   "| exceeds the limit ", kMaxIntervalMagnitude));
  }
  r.lower = n.lower();
  r.upper = n.upper();
  if (n.mode() != v1::ARITHMETIC_MODE_UNSPECIFIED && n.mode() != v1::REAL &&
      n.mode() != v1::FLOAT32) {
    return absl::InvalidArgumentError(
        absl::StrCat("numerics.mode: unknown mode ", static_cast<int>(n.mode())));
  }
  r.float32 = n.mode() == v1::FLOAT32;
  if (absl::Status status = CheckRepresentable(r); !status.ok()) return status;
  for (int i = 0; i < n.ops_size(); ++i) {
    Op op;
    if (!ParseOpName(n.ops(i), &op)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "numerics.ops[", i, "]: unknown op '", n.ops(i), "' (one of add, sub, mul, div, fma)"));
    }
    if (std::find(r.ops.begin(), r.ops.end(), op) == r.ops.end()) r.ops.push_back(op);
  }
  if (r.ops.empty()) r.ops = {Op::kAdd, Op::kSub, Op::kMul, Op::kDiv};
  std::sort(r.ops.begin(), r.ops.end());
  const uint32_t max_ops = n.max_ops() == 0 ? 10 : n.max_ops();
  if (max_ops > static_cast<uint32_t>(kMaxOpsLimit)) {
    return absl::InvalidArgumentError(
        absl::StrCat("numerics.max_ops: ", max_ops, " exceeds the limit ", kMaxOpsLimit));
  }
  r.max_ops = static_cast<int>(max_ops);
  const uint32_t fit_points = n.fit_points() == 0 ? 1024 : n.fit_points();
  if (fit_points < 16 || fit_points > 65536) {
    return absl::InvalidArgumentError(
        absl::StrCat("numerics.fit_points: ", fit_points, " is outside 16..65536"));
  }
  r.fit_points = static_cast<int>(fit_points);
  const uint32_t validation_points = n.validation_points() == 0 ? 10000 : n.validation_points();
  if (validation_points < 10000 || validation_points > 1000000) {
    return absl::InvalidArgumentError(absl::StrCat(
        "numerics.validation_points: ", validation_points, " is outside 10000..1000000"));
  }
  r.validation_points = static_cast<int>(validation_points);
  r.from_scratch = n.from_scratch();
  if (n.verify_every_float() && !r.float32) {
    return absl::InvalidArgumentError(
        "numerics.verify_every_float: needs mode FLOAT32 (every float of the interval is checked "
        "against its correctly rounded value)");
  }
  r.verify_every_float = n.verify_every_float();
  return r;
}

}  // namespace evolv::numerics
