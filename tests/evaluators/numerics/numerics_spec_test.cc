#include "evaluators/numerics/numerics_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

namespace evolv::numerics {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

v1::NumericsSpec Spec(const std::string& target, double lower, double upper) {
  v1::NumericsSpec spec;
  spec.set_target(target);
  spec.set_lower(lower);
  spec.set_upper(upper);
  return spec;
}

std::string Error(const v1::NumericsSpec& spec) {
  auto r = ResolveSpec(spec);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(r.status().message());
}

TEST(ResolveSpecTest, RejectsBadSpecsNamingTheField) {
  EXPECT_THAT(Error(v1::NumericsSpec()), StartsWith("numerics.target: unknown target ''"));
  EXPECT_EQ(Error(Spec("foo", 0, 1)),
            "numerics.target: unknown target 'foo' (one of exp, exp2, log, log2, log1p, erf, "
            "sin, cos, tanh, sigmoid)");
  EXPECT_EQ(Error(Spec("exp2", 1, 0)),
            "numerics.lower: interval is empty or reversed (lower 1 >= upper 0)");
  EXPECT_EQ(Error(Spec("exp2", 1, 1)),
            "numerics.lower: interval is empty or reversed (lower 1 >= upper 1)");
  EXPECT_EQ(Error(Spec("log", -1, 1)), "numerics.lower: log is undefined on [-1, 1] (needs x > 0)");
  EXPECT_THAT(Error(Spec("log1p", -1, 1)), HasSubstr("needs x > -1"));
  EXPECT_THAT(Error(Spec("exp", 0, INFINITY)), StartsWith("numerics.upper: must be finite"));
  EXPECT_THAT(Error(Spec("exp", NAN, 1)), StartsWith("numerics.lower: must be finite"));
  v1::NumericsSpec s = Spec("exp2", 0, 1);
  s.set_mode(static_cast<v1::ArithmeticMode>(7));
  EXPECT_EQ(Error(s), "numerics.mode: unknown mode 7");
  s = Spec("exp2", 0, 1);
  s.set_max_ops(65);
  EXPECT_EQ(Error(s), "numerics.max_ops: 65 exceeds the limit 64");
  s = Spec("exp2", 0, 1);
  s.set_fit_points(15);
  EXPECT_EQ(Error(s), "numerics.fit_points: 15 is outside 16..65536");
  s = Spec("exp2", 0, 1);
  s.set_validation_points(9999);
  EXPECT_EQ(Error(s), "numerics.validation_points: 9999 is outside 10000..1000000");
  s = Spec("exp2", 0, 1);
  s.add_ops("mul");
  s.add_ops("pow");
  EXPECT_EQ(Error(s), "numerics.ops[1]: unknown op 'pow' (one of add, sub, mul, div, fma)");
  s = Spec("exp2", 0, 1);
  s.set_verify_every_float(true);  // REAL mode has no floats to check
  EXPECT_THAT(Error(s), StartsWith("numerics.verify_every_float: needs mode FLOAT32"));
  s.set_mode(v1::FLOAT32);
  EXPECT_TRUE(ResolveSpec(s).ok());
}

TEST(ResolveSpecTest, AppliesDefaults) {
  auto r = ResolveSpec(Spec("exp2", 0, 1));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_STREQ(r->target->name, "exp2");
  EXPECT_EQ(r->lower, 0);
  EXPECT_EQ(r->upper, 1);
  EXPECT_FALSE(r->float32);
  EXPECT_EQ(r->ops, (std::vector<Op>{Op::kAdd, Op::kSub, Op::kMul, Op::kDiv}));
  EXPECT_EQ(r->max_ops, 10);
  EXPECT_EQ(r->fit_points, 1024);
  EXPECT_EQ(r->validation_points, 10000);
}

TEST(ResolveSpecTest, KeepsGivenValuesAndSortsDistinctOps) {
  v1::NumericsSpec s = Spec("log2", 1, 2);
  s.set_mode(v1::FLOAT32);
  s.set_max_ops(64);
  s.set_fit_points(16);
  s.set_validation_points(1000000);
  for (const char* op : {"fma", "mul", "fma", "add"}) s.add_ops(op);
  auto r = ResolveSpec(s);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->float32);
  EXPECT_EQ(r->ops, (std::vector<Op>{Op::kAdd, Op::kMul, Op::kFma}));
  EXPECT_EQ(r->max_ops, 64);
  EXPECT_EQ(r->fit_points, 16);
  EXPECT_EQ(r->validation_points, 1000000);
}

TEST(ResolveSpecTest, RefusesIntervalsBeyondTheMagnitudeLimit) {
  EXPECT_EQ(Error(Spec("exp2", -1e308, 1e308)),
            "numerics.lower: |-1e+308| exceeds the limit 1e+06");
  EXPECT_EQ(Error(Spec("sin", 0, 2e6)), "numerics.upper: |2e+06| exceeds the limit 1e+06");
  EXPECT_TRUE(ResolveSpec(Spec("sin", -1e6, 1e6)).ok());
}

TEST(ResolveSpecTest, RefusesIntervalsWhereTheTargetIsNotRepresentable) {
  EXPECT_EQ(Error(Spec("exp2", 0, 1e6)),
            "numerics.upper: exp2(1e+06) overflows in long double; the target must be "
            "representable over [0, 1e+06]");
  EXPECT_EQ(Error(Spec("exp2", -1e6, 0)),
            "numerics.lower: exp2(-1e+06) underflows to 0 in long double; the target must be "
            "representable over [-1e+06, 0]");
  v1::NumericsSpec s = Spec("exp", 0, 100);
  s.set_mode(v1::FLOAT32);
  EXPECT_THAT(Error(s), StartsWith("numerics.upper: exp(100) overflows in float"));
  s = Spec("exp", -100, 0);
  s.set_mode(v1::FLOAT32);
  EXPECT_THAT(Error(s), StartsWith("numerics.lower: exp(-100) underflows in float"));
  // Long double reaches where float does not; exact zeros (sin(0), log(1)) are representable.
  EXPECT_TRUE(ResolveSpec(Spec("exp", 0, 100)).ok());
  EXPECT_TRUE(ResolveSpec(Spec("sin", -1, 1)).ok());
  s = Spec("log2", 1, 2);
  s.set_mode(v1::FLOAT32);
  EXPECT_TRUE(ResolveSpec(s).ok());
}

}  // namespace
}  // namespace evolv::numerics
