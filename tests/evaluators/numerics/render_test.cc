#include "evaluators/numerics/render.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

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

// Compiles `function` with the system C compiler into a program printing f(x) for each x, as
// hex floats; returns its output lines.
std::vector<std::string> CompileAndRun(const std::string& function, const char* type,
                                       const std::vector<double>& xs) {
  const TempDir temp;  // one per call: ctest runs the tests of this file in parallel
  const std::string& dir = temp.path();
  std::ofstream src(dir + "/main.c");
  src << "#include <math.h>\n#include <stdio.h>\n" << function << "int main(void) {\n";
  for (double x : xs) {
    src << "  printf(\"%a\\n\", (double)approx((" << type << ")" << std::hexfloat << x
        << std::defaultfloat << "));\n";
  }
  src << "  return 0;\n}\n";
  src.close();
  const std::string cmd =
      "cc -O2 -o " + dir + "/main " + dir + "/main.c -lm && " + dir + "/main > " + dir + "/out.txt";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::ifstream in(dir + "/out.txt");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(RenderTest, FloatCCompilesAndMatchesInterpreterBitExactly) {
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

}  // namespace
}  // namespace evolv::numerics
