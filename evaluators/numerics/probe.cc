#include "evaluators/numerics/probe.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

#include "evaluators/numerics/interpreter.h"

namespace evolv::numerics {
namespace {

void AppendLittleEndian(uint64_t v, int bytes, std::string* out) {
  for (int b = 0; b < bytes; ++b) out->push_back(static_cast<char>(v >> (8 * b)));
}

// `v` as a double with 24 of its 52 mantissa bits (as the published NAS code truncates), NaN
// canonicalized.
void AppendTruncated(long double v, std::string* out) {
  double d = static_cast<double>(v);
  if (std::isnan(d)) d = std::numeric_limits<double>::quiet_NaN();
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  if (std::isfinite(d)) bits &= ~((uint64_t{1} << 28) - 1);
  AppendLittleEndian(bits, 8, out);
}

// Float outputs of `p` at `x`, canonical NaN, appended as 32-bit words.
void AppendFloatOutputs(const Program& p, const std::vector<float>& x, std::string* out) {
  std::vector<float> y(x.size());
  CompiledProgram<float>(p).Run(x.data(), y.data(), y.size());
  for (float v : y) {
    if (std::isnan(v)) v = std::numeric_limits<float>::quiet_NaN();
    uint32_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    AppendLittleEndian(bits, 4, out);
  }
}

}  // namespace

FunctionalProbe::FunctionalProbe(double lower, double upper, bool float32) : float32_(float32) {
  // Both ends (every fit and validation set holds them, and singularities such as x/x at 0 sit
  // there), then golden-ratio fractions of the interval (irregular, fixed).
  auto input = [&](int k) {
    const long double frac = k == 0   ? 0.0L
                             : k == 1 ? 1.0L
                                      : fmodl((k - 1) * 0.6180339887498948482L, 1.0L);
    return k == 1 ? static_cast<long double>(upper)
                  : lower + (static_cast<long double>(upper) - lower) * frac;
  };
  for (int k = 0; k < (float32_ ? kFloatPoints : kPoints); ++k) {
    long double x = input(k);
    if (float32_) {
      x_float_.push_back(static_cast<float>(x));
      x = x_float_.back();
    }
    if (k < kPoints) x_.push_back(x);
  }
}

FunctionalProbe::Analysis FunctionalProbe::Analyze(const Program& p) const {
  Analysis a;
  const std::vector<bool> live = LiveValues(p);
  std::vector<size_t> free;  // constant indices, in program order
  for (size_t k = 0; k < p.constants.size(); ++k) {
    if (live[1 + k]) free.push_back(k);
  }
  // Outputs and their derivatives by each free constant, forward mode in long double.
  const size_t m = free.size(), nv = p.num_values();
  std::vector<long double> val(nv, 0.0L), d(nv * m, 0.0L);  // d[v * m + j] = dval[v]/dc_j
  std::vector<std::string> columns(m);
  for (size_t k = 0; k < p.constants.size(); ++k) val[1 + k] = p.constants[k];
  for (size_t j = 0; j < m; ++j) d[(1 + free[j]) * m + j] = 1.0L;
  for (long double x : x_) {
    val[0] = x;
    for (size_t i = 0; i < p.instructions.size(); ++i) {
      const size_t v = p.value_of(i);
      if (!live[v]) continue;
      const Instruction& in = p.instructions[i];
      const long double a = val[in.a], b = val[in.b];
      // data() + offset, not &d[offset]: with no free constants d is empty, and indexing an
      // empty vector is undefined behaviour even when nothing is read.
      const long double* da = d.data() + in.a * m;
      const long double* db = d.data() + in.b * m;
      long double* dv = d.data() + v * m;
      switch (in.op) {
        case Op::kAdd:
          val[v] = a + b;
          for (size_t j = 0; j < m; ++j) dv[j] = da[j] + db[j];
          break;
        case Op::kSub:
          val[v] = a - b;
          for (size_t j = 0; j < m; ++j) dv[j] = da[j] - db[j];
          break;
        case Op::kMul:
          val[v] = a * b;
          for (size_t j = 0; j < m; ++j) dv[j] = da[j] * b + a * db[j];
          break;
        case Op::kDiv:
          val[v] = a / b;
          for (size_t j = 0; j < m; ++j) dv[j] = (da[j] - val[v] * db[j]) / b;
          break;
        case Op::kFma:
          val[v] = std::fma(a, b, val[in.c]);
          for (size_t j = 0; j < m; ++j) dv[j] = da[j] * b + a * db[j] + d[in.c * m + j];
          break;
      }
    }
    const size_t r = p.result();
    AppendTruncated(val[r], &a.outputs);
    for (size_t j = 0; j < m; ++j) AppendTruncated(d[r * m + j], &columns[j]);
  }
  // In FLOAT32 mode evaluation starts from the constants rounded to float, and where a float
  // lands after fitting depends on that start (the float search around it is local), so each
  // column carries its constant's float.
  for (size_t j = 0; j < m; ++j) {
    if (float32_) {
      const float c = static_cast<float>(p.constants[free[j]]);
      uint32_t bits;
      std::memcpy(&bits, &c, sizeof bits);
      AppendLittleEndian(bits, 4, &columns[j]);
    }
    a.columns.push_back({std::move(columns[j]), free[j]});
  }
  // Canonical order: by column, ties by the constant's value (bits), then index.
  std::sort(a.columns.begin(), a.columns.end(), [&](const auto& x, const auto& y) {
    if (x.first != y.first) return x.first < y.first;
    uint64_t bx, by;
    std::memcpy(&bx, &p.constants[x.second], sizeof bx);
    std::memcpy(&by, &p.constants[y.second], sizeof by);
    return bx != by ? bx < by : x.second < y.second;
  });
  return a;
}

std::string FunctionalProbe::Bytes(const Program& p) const {
  const Analysis a = Analyze(p);
  std::string out;
  AppendLittleEndian(static_cast<uint32_t>(Cost(p)), 4, &out);
  AppendLittleEndian(static_cast<uint32_t>(LiveInstructions(p)), 4, &out);
  AppendLittleEndian(static_cast<uint32_t>(a.columns.size()), 4, &out);
  if (float32_) {
    // Evaluation runs the program in float at the fitted constants, not these: rounding that
    // agrees here may differ there ((x - c) - x against (x - x) - c on [1, 2] at c = 1), so the
    // outputs at constants scaled by a fixed factor are part of the probe too.
    AppendFloatOutputs(p, x_float_, &out);
    Program moved = p;
    for (double& c : moved.constants) c *= kFloatStep;
    AppendFloatOutputs(moved, x_float_, &out);
  } else {
    out += a.outputs;
  }
  // Which constant is which does not matter to the fit, only how each enters the function.
  for (const auto& column : a.columns) out += column.first;
  return out;
}

std::vector<size_t> FunctionalProbe::CanonicalConstantOrder(const Program& p) const {
  std::vector<size_t> order;
  for (const auto& column : Analyze(p).columns) order.push_back(column.second);
  return order;
}

int FreeConstants(const Program& p) {
  const std::vector<bool> live = LiveValues(p);
  int n = 0;
  for (size_t k = 0; k < p.constants.size(); ++k) n += live[1 + k] ? 1 : 0;
  return n;
}

}  // namespace evolv::numerics
