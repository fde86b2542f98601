#include "evaluators/numerics/render.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <utility>
#include <vector>

#include "evaluators/numerics/interpreter.h"
#include "tests/evaluators/numerics/test_programs.h"
#include "tests/support/temp_dir.h"

namespace evolv::numerics {
namespace {

Program Sample() {
  Program p = testing::EvenOddRational();
  p.constants = {1.0000000001, 0.34657359027997264, 0.040037781, 0.000962};
  p.instructions.push_back({Op::kAdd, 0, 0, 0});   // dead: not rendered
  p.instructions.push_back({Op::kMul, 13, 1, 0});  // result: v15 = v13 * c0
  return p;
}

bool Have(const std::string& compiler) {
  return std::system(("command -v " + compiler + " > /dev/null 2>&1").c_str()) == 0;
}
bool HaveCc() { return Have("cc"); }

// Writes `source` to dir/main.c and runs `<compiler> dir/main.c <flags>`; the compiler's messages
// go to *messages. Returns whether the compiler exited 0.
bool RunCc(const std::string& dir, const std::string& source, const std::string& flags,
           std::string* messages, const std::string& compiler = "cc") {
  std::ofstream(dir + "/main.c") << source;
  const std::string cmd = compiler + " " + dir + "/main.c " + flags + " > " + dir + "/cc.txt 2>&1";
  const bool ok = std::system(cmd.c_str()) == 0;
  std::ifstream in(dir + "/cc.txt");
  *messages = std::string(std::istreambuf_iterator<char>(in), {});
  return ok;
}

// Builds `source` into an executable with `flags`, runs it and returns its output lines.
std::vector<std::string> BuildAndRun(const std::string& source, const std::string& flags) {
  const TempDir temp;  // one per call: ctest runs the tests of this file in parallel
  const std::string& dir = temp.path();
  std::string messages;
  EXPECT_TRUE(RunCc(dir, source, flags + " -o " + dir + "/main -lm", &messages))
      << messages << source;
  EXPECT_EQ(std::system((dir + "/main > " + dir + "/out.txt").c_str()), 0);
  std::ifstream in(dir + "/out.txt");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Compiles `function` with the system C compiler into a program printing f(x) for each x, as
// hex floats; returns its output lines.
std::vector<std::string> CompileAndRun(const std::string& function, const char* type,
                                       const std::vector<double>& xs) {
  std::ostringstream src;
  src << "#include <math.h>\n#include <stdio.h>\n" << function << "int main(void) {\n";
  for (double x : xs) {
    src << "  printf(\"%a\\n\", (double)approx((" << type << ")" << std::hexfloat << x
        << std::defaultfloat << "));\n";
  }
  src << "  return 0;\n}\n";
  return BuildAndRun(src.str(), "-O2");
}

TEST(RenderTest, FloatCCompilesAndMatchesInterpreterBitExactly) {
  if (!HaveCc()) GTEST_SKIP() << "no cc on PATH";
  const Program p = Sample();
  const std::string c = RenderC(p, "approx", true);
  EXPECT_NE(c.find("static inline float approx(float x) {"), std::string::npos) << c;
  EXPECT_EQ(c.find("v14"), std::string::npos) << "dead instruction rendered:\n" << c;
  const std::vector<double> xs = {0.0, 0.125, 0.3, 0.7, 0.999};
  const std::vector<std::string> out = CompileAndRun(c, "float", xs);
  ASSERT_EQ(out.size(), xs.size());
  const CompiledProgram<float> interp(p);
  for (size_t i = 0; i < xs.size(); ++i) {
    const float want = interp.RunOne(static_cast<float>(xs[i]));
    EXPECT_EQ(std::strtod(out[i].c_str(), nullptr), static_cast<double>(want)) << xs[i];
  }
}

TEST(RenderTest, DoubleCCompilesAndMatchesLongDoubleInterpreter) {
  if (!HaveCc()) GTEST_SKIP() << "no cc on PATH";
  const Program p = Sample();
  const std::string c = RenderC(p, "approx", false);
  EXPECT_NE(c.find("const double c0 = 1.0000000001;"), std::string::npos) << c;
  const std::vector<double> xs = {0.0, 0.125, 0.3, 0.7, 0.999};
  const std::vector<std::string> out = CompileAndRun(c, "double", xs);
  ASSERT_EQ(out.size(), xs.size());
  const CompiledProgram<long double> interp(p);
  for (size_t i = 0; i < xs.size(); ++i) {
    const long double want = interp.RunOne(xs[i]);
    EXPECT_NEAR(std::strtod(out[i].c_str(), nullptr) / want, 1.0L, 1e-15L) << xs[i];
  }
}

TEST(RenderTest, TextShowsEveryInstructionAndMarksDeadOnes) {
  Program p;
  p.constants = {2.0};
  p.instructions = {{Op::kAdd, 0, 0, 0}, {Op::kMul, 0, 1, 0}};
  EXPECT_EQ(RenderText(p), "c0 = 2\nv2 = x + x  # dead\nv3 = x * c0\nreturn v3\n");
}

// Programs that exercise the exported form: constant-only and dead instructions, divisions
// (one by a constant that overflows in float), fma, a constant function, the identity, and
// constants that are subnormal, huge, negative zero or integral.
std::vector<std::pair<std::string, Program>> ExportCases() {
  std::vector<std::pair<std::string, Program>> cases = {
      {"sample", Sample()}, {"even-odd rational", testing::EvenOddRational()}};
  Program folded;  // (x c0 c4 - c1 / c1) / (c2 * c2) + x * -0 + x c0 c4: 5 ops, 9 instructions
  folded.constants = {0.7, 3.0, 1e20, -0.0, 0.3};
  folded.instructions = {
      {Op::kMul, 1, 5, 0},   // 6: c0 c4, constant-only; rounds differently in float and double
      {Op::kDiv, 2, 2, 0},   // 7: c1 / c1, constant-only
      {Op::kMul, 3, 3, 0},   // 8: c2 * c2, constant-only; inf in float
      {Op::kMul, 0, 6, 0},   // 9
      {Op::kSub, 9, 7, 0},   // 10
      {Op::kAdd, 0, 0, 0},   // 11: dead
      {Op::kDiv, 10, 8, 0},  // 12: tiny in double, a signed zero in float
      {Op::kFma, 0, 4, 12},  // 13: x * -0 + v12
      {Op::kAdd, 13, 9, 0},  // 14
  };
  cases.emplace_back("folded", folded);
  Program fma;  // fma(fma(fma(x, c0, c1), x, c2) / (c3 * c1), c3, x): subnormal, huge constants
  fma.constants = {1.5, -2.0, 1e-40, 1e38};
  fma.instructions = {
      {Op::kFma, 0, 1, 2},  // 5: 1.5 x - 2
      {Op::kFma, 5, 0, 3},  // 6: (1.5 x - 2) x + 1e-40
      {Op::kMul, 4, 2, 0},  // 7: -2e38, constant-only
      {Op::kDiv, 6, 7, 0},  // 8: subnormal in float near x = 1
      {Op::kFma, 8, 4, 0},  // 9
  };
  cases.emplace_back("fma", fma);
  Program constant;
  constant.constants = {2.0, 0.25};
  constant.instructions = {{Op::kMul, 0, 0, 0}, {Op::kSub, 1, 2, 0}};
  cases.emplace_back("constant", constant);
  cases.emplace_back("identity", Program());
  return cases;
}

TEST(RenderTest, ExportedCCompilesOnItsOwnWithoutNonFiniteConstants) {
  if (!HaveCc()) GTEST_SKIP() << "no cc on PATH";
  Program overflow;  // x + (c0 * c0): inf in float and in double
  overflow.constants = {1e200};
  overflow.instructions = {{Op::kMul, 1, 1, 0}, {Op::kAdd, 0, 2, 0}};
  std::vector<std::pair<std::string, Program>> cases = ExportCases();
  cases.emplace_back("overflow", overflow);
  const TempDir temp;
  const char* kFlags = "-c -std=c99 -Wall -Wextra -Werror -o /dev/null";
  const bool have_clang = Have("clang");
  for (const auto& [name, p] : cases) {
    for (bool use_float : {false, true}) {
      const std::string c = RenderC(p, "approx", use_float);
      SCOPED_TRACE(name + (use_float ? " float\n" : " double\n") + c);
      for (const char* non_finite : {"INFINITY", "NAN", "HUGE_VAL", "inf"}) {
        EXPECT_TRUE(c.find(non_finite) == std::string::npos || c.rfind("/*", 0) == 0) << non_finite;
      }
      std::string messages;
      EXPECT_TRUE(RunCc(temp.path(), c, kFlags, &messages)) << messages;
      // Clang flags an unused static inline function in a main file, not in a header: the
      // function is meant to be included.
      if (!have_clang) continue;
      std::ofstream(temp.Sub("approx.h")) << c;
      EXPECT_TRUE(RunCc(temp.path(), "#include \"approx.h\"\n", kFlags, &messages, "clang"))
          << messages;
    }
  }
  const std::string refused = RenderC(overflow, "approx", true);
  EXPECT_EQ(refused.rfind("/* approx is not exported", 0), 0u) << refused;
  EXPECT_NE(refused.find("reads c0 = inf"), std::string::npos) << refused;
}

TEST(RenderTest, ExportedCShowsCostInstructionsAndIncludesMathForFma) {
  for (const auto& [name, p] : ExportCases()) {
    for (bool use_float : {false, true}) {
      const std::string c = RenderC(p, "approx", use_float);
      SCOPED_TRACE(name + "\n" + c);
      int instructions = 0;
      for (size_t at = c.find("  const "); at != std::string::npos;
           at = c.find("  const ", at + 1)) {
        instructions += c.compare(at + 8 + (use_float ? 6 : 7), 1, "v") == 0 ? 1 : 0;
      }
      EXPECT_EQ(instructions, Cost(p));
      EXPECT_EQ(c.find("fma") != std::string::npos, c.rfind("#include <math.h>\n", 0) == 0);
    }
  }
}

// The rendered program (`function`, approx), built with `flags` into an executable that prints
// f(x) as a hex float for every float x in [lo, hi] (both positive), one line each, and run.
std::vector<std::string> EveryFloat(const std::string& function, float lo, float hi,
                                    const std::string& flags) {
  uint32_t first, last;
  std::memcpy(&first, &lo, 4);
  std::memcpy(&last, &hi, 4);
  std::ostringstream src;
  src << "#include <stdio.h>\n#include <string.h>\n"
      << function << "int main(void) {\n  unsigned int u;\n  for (u = " << first
      << "u; u <= " << last << "u; ++u) {\n    float x;\n    memcpy(&x, &u, 4);\n"
      << "    printf(\"%a\\n\", (double)approx(x));\n  }\n  return 0;\n}\n";
  return BuildAndRun(src.str(), flags);
}

constexpr float kLo = 1.0f, kHi = 1.0f + 0x1p-10f;  // 8193 floats
constexpr size_t kFloatsInInterval = 8193;

// The interpreter's results for every float in [kLo, kHi], in T.
template <typename T>
std::vector<T> Interpreted(const Program& p) {
  std::vector<T> xs;
  for (float x = kLo; x <= kHi; x = std::nextafter(x, 2.0f)) xs.push_back(x);
  CompiledProgram<T>(p).Run(xs.data(), xs.data(), xs.size());
  return xs;
}

TEST(RenderTest, FloatCMatchesInterpreterBitForBitOnEveryFloatOfAnInterval) {
  if (!HaveCc()) GTEST_SKIP() << "no cc on PATH";
  for (const auto& [name, p] : ExportCases()) {
    for (const char* flags : {"-std=c99 -O0 -ffp-contract=off", "-std=c99 -O2 -ffp-contract=off"}) {
      SCOPED_TRACE(name + " " + flags);
      const std::vector<std::string> out = EveryFloat(RenderC(p, "approx", true), kLo, kHi, flags);
      ASSERT_EQ(out.size(), kFloatsInInterval);
      const std::vector<float> want = Interpreted<float>(p);
      int differing = 0;
      for (size_t i = 0; i < out.size(); ++i) {
        const float got = static_cast<float>(std::strtod(out[i].c_str(), nullptr));
        differing += testing::SameFloat(got, want[i]) ? 0 : 1;
      }
      EXPECT_EQ(differing, 0);
    }
  }
}

TEST(RenderTest, DoubleCMatchesLongDoubleInterpreterWithin1e15OnEveryFloatOfAnInterval) {
  if (!HaveCc()) GTEST_SKIP() << "no cc on PATH";
  for (const auto& [name, p] : ExportCases()) {
    SCOPED_TRACE(name);
    const std::vector<std::string> out =
        EveryFloat(RenderC(p, "approx", false), kLo, kHi, "-std=c99 -O0 -ffp-contract=off");
    ASSERT_EQ(out.size(), kFloatsInInterval);
    const std::vector<long double> want = Interpreted<long double>(p);
    long double worst = 0;
    for (size_t i = 0; i < out.size(); ++i) {
      const long double got = std::strtod(out[i].c_str(), nullptr);
      worst =
          std::max(worst, want[i] == got ? 0.0L : std::fabs(got - want[i]) / std::fabs(want[i]));
    }
    EXPECT_LE(worst, 1e-15L);
  }
}

}  // namespace
}  // namespace evolv::numerics
