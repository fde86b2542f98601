#include "evaluators/numerics/numerics_spec.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace evolv::numerics {

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
  r.lower = n.lower();
  r.upper = n.upper();
  if (n.mode() != v1::ARITHMETIC_MODE_UNSPECIFIED && n.mode() != v1::REAL &&
      n.mode() != v1::FLOAT32) {
    return absl::InvalidArgumentError(
        absl::StrCat("numerics.mode: unknown mode ", static_cast<int>(n.mode())));
  }
  r.float32 = n.mode() == v1::FLOAT32;
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
  return r;
}

}  // namespace evolv::numerics
