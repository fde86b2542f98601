// The CUDA path's host twin: the code the device runs (cuda/flat_program.h, cuda/reference_dd.h)
// compiled for the CPU and held to the CPU paths. The device test (evaluators/numerics/cuda/
// numerics_cuda_test.cu) then holds the device to this twin, so these checks run on every build,
// GPU or not.
#include "evaluators/numerics/device_program.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "evaluators/common/cuda_devices.h"
#include "evaluators/numerics/baselines.h"
#include "evaluators/numerics/fitting.h"
#include "evaluators/numerics/interpreter.h"
#include "evaluators/numerics/targets.h"
#include "evaluators/numerics/verify_float.h"
#include "tests/evaluators/numerics/test_programs.h"

namespace evolv::numerics {
namespace {

using cuda::DD;
using cuda::DeviceTarget;

TEST(DeviceProgramTest, FlatFloatProgramsGiveTheInterpretersBits) {
  std::mt19937 rng(7);
  const std::vector<float> x = testing::EdgeInputs(rng);
  std::vector<float> want(x.size());
  for (int trial = 0; trial < 300; ++trial) {
    const Program p = testing::RandomProgram(rng);
    cuda::FlatProgram<float> flat;
    ASSERT_TRUE(ToFlatProgram(p, &flat));
    CompiledProgram<float>(p).Run(x.data(), want.data(), x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      ASSERT_TRUE(testing::SameFloat(cuda::RunFlat(flat, x[i]), want[i]))
          << "program " << trial << " at " << x[i];
    }
  }
}

TEST(DeviceProgramTest, FlatDoubleProgramsGiveInstructionByInstructionDoubles) {
  std::mt19937 rng(8);
  const std::vector<float> x = testing::EdgeInputs(rng);
  for (int trial = 0; trial < 300; ++trial) {
    const Program p = testing::RandomProgram(rng);
    cuda::FlatProgram<double> flat;
    ASSERT_TRUE(ToFlatProgram(p, &flat));
    for (float xf : x) {
      const double got = cuda::RunFlat(flat, static_cast<double>(xf));
      const double want = testing::Naive<double>(p, xf);
      ASSERT_TRUE((std::isnan(got) && std::isnan(want)) || got == want ||
                  (got == 0 && want == 0 && std::signbit(got) == std::signbit(want)))
          << "program " << trial << " at " << xf << ": " << got << " vs " << want;
    }
  }
}

TEST(DeviceProgramTest, KeepsOnlyLiveStepsThatDependOnX) {
  // x2 = x*x (live); k = 2*3 (constant only: folded); dead = x+1; result x2 * k.
  Program p;
  p.constants = {2.0, 3.0, 1.0};
  p.instructions = {
      {Op::kMul, 0, 0, 0}, {Op::kMul, 1, 2, 0}, {Op::kAdd, 0, 3, 0}, {Op::kMul, 4, 5, 0}};
  cuda::FlatProgram<float> flat;
  ASSERT_TRUE(ToFlatProgram(p, &flat));
  EXPECT_EQ(flat.steps.size(), 2u);
  ASSERT_EQ(flat.constants.size(), 1u);
  EXPECT_EQ(flat.constants[0], 6.0f);
  EXPECT_EQ(cuda::RunFlat(flat, 1.5f), 13.5f);

  Program constant;  // no step at all: the result is a constant operand
  constant.constants = {4.0};
  constant.instructions = {{Op::kAdd, 1, 1, 0}};
  ASSERT_TRUE(ToFlatProgram(constant, &flat));
  EXPECT_TRUE(flat.steps.empty());
  EXPECT_EQ(cuda::RunFlat(flat, 123.0f), 8.0f);
  ASSERT_TRUE(ToFlatProgram(Program{}, &flat));  // the identity
  EXPECT_EQ(cuda::RunFlat(flat, -2.5f), -2.5f);
}

TEST(DeviceProgramTest, RefusesProgramsLongerThanTheDeviceTakes) {
  Program p;
  for (int i = 0; i <= cuda::kMaxFlatSteps; ++i) {
    p.instructions.push_back({Op::kAdd, i == 0 ? 0u : p.value_of(i - 1), 0, 0});
  }
  cuda::FlatProgram<float> flat;
  EXPECT_FALSE(ToFlatProgram(p, &flat));
  p.instructions.pop_back();
  EXPECT_TRUE(ToFlatProgram(p, &flat));
  EXPECT_EQ(flat.steps.size(), static_cast<size_t>(cuda::kMaxFlatSteps));
}

TEST(DeviceProgramTest, EveryTargetHasADeviceReference) {
  for (const char* name : cuda::kDeviceTargetNames) {
    const Target* target = FindTarget(name);
    ASSERT_NE(target, nullptr) << name;
    DeviceTarget t;
    ASSERT_TRUE(ToDeviceTarget(*target, &t));
    EXPECT_STREQ(cuda::kDeviceTargetNames[static_cast<int>(t)], name);
  }
  EXPECT_EQ(TargetNames().size(),
            std::string("exp, exp2, log, log2, log1p, erf, sin, cos, tanh, sigmoid").size());
}

long double ToLongDouble(DD v) { return static_cast<long double>(v.hi) + v.lo; }

// Where the targets' double-double and glibc's long double functions overlap (64 bits), they agree
// to within 2^-60 relative, at random points across each domain: near zero, near the ends of
// the series' ranges, and far out for sin and cos.
TEST(DeviceReferenceTest, DoubleDoubleAgreesWithLongDoubleAcrossEachDomain) {
  struct Range {
    const char* target;
    double lower, upper;
  };
  const Range ranges[] = {
      {"exp", -620, 709},     {"exp", -1e-6, 1e-6},  {"exp2", -900, 1020},   {"log", 1e-40, 1e30},
      {"log", 0.999, 1.001},  {"log2", 1e-30, 1e30}, {"log1p", -0.999, 1e6}, {"log1p", -1e-3, 1e-3},
      {"erf", -4.4, 4.4},     {"erf", -1e-5, 1e-5},  {"sin", -1e6, 1e6},     {"sin", -1e-3, 1e-3},
      {"cos", -1e6, 1e6},     {"cos", -2, 2},        {"tanh", -19, 19},      {"tanh", -1e-4, 1e-4},
      {"sigmoid", -600, 600}, {"sigmoid", -1, 1},
  };
  std::mt19937 rng(11);
  for (const Range& r : ranges) {
    const Target& target = *FindTarget(r.target);
    DeviceTarget t;
    ASSERT_TRUE(ToDeviceTarget(target, &t));
    std::uniform_real_distribution<double> uniform(r.lower, r.upper);
    for (int i = 0; i < 2000; ++i) {
      const float x = static_cast<float>(uniform(rng));
      const long double want = target.reference(x);
      if (want == 0) continue;
      const long double got = ToLongDouble(cuda::ReferenceDD(t, x));
      ASSERT_LE(std::fabs(got - want), std::ldexp(std::fabs(want), -60))
          << r.target << "(" << x << ") = " << static_cast<double>(got) << ", long double "
          << static_cast<double>(want);
    }
  }
}

// Near multiples of pi/2, where sin or cos nearly vanishes, only the reduction decides the
// relative accuracy: the floats nearest k pi/2 up to 1e6.
TEST(DeviceReferenceTest, ReductionKeepsSinAndCosAccurateNearTheirZeros) {
  const Target &sin = *FindTarget("sin"), &cos = *FindTarget("cos");
  int checked = 0;
  for (double k = 1; k * M_PI_2 < 1e6; k = k < 64 ? k + 1 : std::floor(k * 1.37)) {
    const float x = static_cast<float>(k * M_PI_2);
    for (float v : {x, std::nextafter(x, 0.0f), std::nextafter(x, 2e6f)}) {
      for (const Target* t : {&sin, &cos}) {
        DeviceTarget d;
        ASSERT_TRUE(ToDeviceTarget(*t, &d));
        const long double want = t->reference(v);
        const long double got = ToLongDouble(cuda::ReferenceDD(d, v));
        ASSERT_LE(std::fabs(got - want), std::ldexp(std::fabs(want), -60))
            << t->name << "(" << v << ") = " << static_cast<double>(got);
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 300);
}

// Beyond long double's 64 bits: identities the double-double functions keep to about 100 bits.
TEST(DeviceReferenceTest, DoubleDoubleKeepsIdentitiesToAbout100Bits) {
  namespace dd = cuda::dd;
  std::mt19937 rng(12);
  std::uniform_real_distribution<double> exponent(-100, 100), angle(-1e6, 1e6), small(-0.03, 0.03);
  for (int i = 0; i < 3000; ++i) {
    const double x = std::exp(exponent(rng));
    const DD back = dd::Exp(dd::Log(dd::Of(x)));  // e^(log x) = x
    EXPECT_LE(std::fabs(dd::Sub(back, dd::Of(x)).hi), std::ldexp(x, -98)) << x;
    const double a = angle(rng);  // sin^2 + cos^2 = 1
    const DD s = dd::SinCos(a, false), c = dd::SinCos(a, true);
    EXPECT_LE(std::fabs(dd::Sub(dd::Add(dd::Mul(s, s), dd::Mul(c, c)), dd::Of(1)).hi), 0x1p-100)
        << a;
    // The series and the Newton step agree on log(1 + h), to the Newton step's absolute 2^-104
    // (which is why the series serves small h).
    const double h = small(rng);
    const DD series = dd::Log1p(h), newton = dd::Log(dd::TwoSum(1.0, h));
    EXPECT_LE(std::fabs(dd::Sub(series, newton).hi), 0x1p-103) << h;
  }
}

// hi + lo on a float midpoint: lo decides, and an exact tie goes to the even float; at the top of
// float's range the midpoint with infinity is 2^128 - 2^103.
TEST(DeviceReferenceTest, RoundToFloatDecidesMidpointsByTheLowPart) {
  const float one = 1.0f, above = std::nextafter(1.0f, 2.0f);
  const double mid = 0.5 * (static_cast<double>(one) + above);  // 1 + 2^-24
  EXPECT_EQ(cuda::RoundToFloat({mid, 0x1p-80}), above);
  EXPECT_EQ(cuda::RoundToFloat({mid, -0x1p-80}), one);
  EXPECT_EQ(cuda::RoundToFloat({mid, 0}), one);  // tie: 1.0f's mantissa is even
  const float odd = above, next = std::nextafter(above, 2.0f);
  const double mid2 = 0.5 * (static_cast<double>(odd) + next);
  EXPECT_EQ(cuda::RoundToFloat({mid2, 0}), next);  // tie: to the even one, upward
  EXPECT_EQ(cuda::RoundToFloat({-mid, 0x1p-80}), -one);
  EXPECT_EQ(cuda::RoundToFloat({-mid, -0x1p-80}), -above);
  const double top = 0x1.ffffffp+127;  // FLT_MAX + half an ulp
  EXPECT_EQ(cuda::RoundToFloat({top, -0x1p-60}), std::numeric_limits<float>::max());
  EXPECT_EQ(cuda::RoundToFloat({top, 0x1p-60}), std::numeric_limits<float>::infinity());
  const double tiny = 0x1p-150;  // half the smallest subnormal
  EXPECT_EQ(cuda::RoundToFloat({tiny, 0x1p-200}), std::numeric_limits<float>::denorm_min());
  EXPECT_EQ(cuda::RoundToFloat({tiny, -0x1p-200}), 0.0f);
  EXPECT_EQ(cuda::RoundToFloat({1.25, 0x1p-60}), 1.25f);  // exact in float: lo cannot matter
}

// The floats where double alone cannot decide the rounding are exactly where the device uses
// double-double; on each of them the rounded result equals glibc's long double one.
TEST(DeviceReferenceTest, DoubleDoubleRoundsCorrectlyWhereDoubleIsAmbiguous) {
  struct Interval {
    const char* target;
    float lower, upper;
  };
  const Interval intervals[] = {
      {"exp", 0.5f, 1.0f},     {"exp2", -1.0f, -0.5f},    {"log", 1.0f, 2.0f},
      {"log2", 1.0f, 2.0f},    {"log1p", 0.5f, 1.0f},     {"erf", 0.5f, 1.0f},
      {"sin", 1.0f, 2.0f},     {"cos", 0.5f, 1.0f},       {"tanh", 0.25f, 0.5f},
      {"sigmoid", 2.0f, 4.0f}, {"sin", 1000.0f, 1024.0f},
  };
  uint64_t all = 0;
  for (const Interval& in : intervals) {
    const Target& target = *FindTarget(in.target);
    DeviceTarget t;
    ASSERT_TRUE(ToDeviceTarget(target, &t));
    uint64_t slow = 0;
    for (int64_t k = cuda::OrderedOf(in.lower); k <= cuda::OrderedOf(in.upper); ++k) {
      const float x = cuda::FloatOfOrdered(k);
      const uint64_t before = slow;
      const float got = cuda::CorrectlyRoundedFloat(t, x, &slow);
      if (slow == before) continue;
      const float want = static_cast<float>(target.reference(x));
      ASSERT_TRUE(testing::SameFloat(got, want))
          << in.target << "(" << x << "): double-double " << got << ", long double " << want;
    }
    EXPECT_GT(slow, 0u) << in.target << ": no float needed double-double";
    all += slow;
  }
  std::printf("%llu ambiguous floats, each rounded as long double rounds it\n",
              static_cast<unsigned long long>(all));
}

// End to end: the twin of the device's exhaustive verification finds the CPU's worst error and
// worst x.
TEST(DeviceReferenceTest, HostTwinOfTheDeviceVerificationMatchesTheCpu) {
  const Program p = testing::EvenOddRational();
  cuda::FlatProgram<float> flat;
  ASSERT_TRUE(ToFlatProgram(p, &flat));
  for (const char* name : {"exp", "tanh", "sin", "log1p"}) {
    const Target& target = *FindTarget(name);
    DeviceTarget t;
    ASSERT_TRUE(ToDeviceTarget(target, &t));
    const float lower = 0.25f, upper = 0.375f;
    const ExhaustiveResult cpu = VerifyAllFloats(p, target, lower, upper, 2);
    const ExhaustiveResult twin =
        cuda::VerifyOrderedRangeOnHost(flat, t, cuda::OrderedOf(lower), cuda::OrderedOf(upper));
    EXPECT_EQ(twin.max_ulp, cpu.max_ulp) << name;
    EXPECT_EQ(twin.worst_x, cpu.worst_x) << name;
    EXPECT_EQ(twin.checked, cpu.checked) << name;
    EXPECT_GT(twin.max_ulp, 0) << name;
  }
}

// A FLOAT32 refinement whose neighbour batches a device scores (here its host twin: the flat
// programs run on the CPU, as the batch kernel runs them) is the CPU's refinement, bit for bit;
// a runner that declines leaves every batch to the CPU with the same result.
TEST(DeviceProgramTest, ARefinementScoredInBatchesByTheHostTwinIsTheCpusOwn) {
  const Target& exp2 = *FindTarget("exp2");
  Program p = HornerProgram(MinimaxPolynomial(exp2, 0, 1, 6));
  for (double& c : p.constants) c *= 1.0 + 3e-7;  // some ULPs off, so the refinement moves
  const Samples val = MakeValidationPoints(exp2, 0, 1, 20000, 7, true);
  int launches = 0;
  const FloatBatchRunner twin = [&](const std::vector<Program>& programs,
                                    const std::vector<float>& x, std::vector<float>* out) {
    ++launches;
    out->resize(programs.size() * x.size());
    for (size_t j = 0; j < programs.size(); ++j) {
      cuda::FlatProgram<float> flat;
      if (!ToFlatProgram(programs[j], &flat)) return false;
      for (size_t i = 0; i < x.size(); ++i) (*out)[j * x.size() + i] = cuda::RunFlat(flat, x[i]);
    }
    return true;
  };
  const FloatBatchRunner declines = [](const std::vector<Program>&, const std::vector<float>&,
                                       std::vector<float>*) { return false; };
  const FloatRefineResult cpu = RefineFloatConstants(p, val);
  const FloatRefineResult batched =
      RefineFloatConstants(p, val, kRefineRadius, kRefinePasses, twin);
  const FloatRefineResult declined =
      RefineFloatConstants(p, val, kRefineRadius, kRefinePasses, declines);
  EXPECT_GE(cpu.changed_constants, 1);
  EXPECT_EQ(batched.program, cpu.program);
  EXPECT_EQ(batched.error.max_ulp, cpu.error.max_ulp);
  EXPECT_EQ(batched.error.worst_x, cpu.error.worst_x);
  EXPECT_GT(batched.batches, 0);
  EXPECT_EQ(batched.batches_by_runner, batched.batches);
  EXPECT_EQ(launches, batched.batches);
  EXPECT_EQ(declined.program, cpu.program);
  EXPECT_EQ(declined.batches_by_runner, 0);
  // Without CUDA support or a device, the device runner says why and runs nothing.
  std::vector<float> out;
  std::string why_not;
  EXPECT_FALSE(FloatBatchOnDevice(kMaxCudaDeviceIndex, {p}, {0.5f}, &out, &why_not));
  EXPECT_FALSE(why_not.empty());
}

}  // namespace
}  // namespace evolv::numerics
