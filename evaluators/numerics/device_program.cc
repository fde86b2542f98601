#include "evaluators/numerics/device_program.h"

#include <cstdint>
#include <string>
#include <vector>

#include "evaluators/common/cuda_devices.h"
#include "evaluators/numerics/interpreter.h"

#if EVOLV_HAVE_CUDA
#include "evaluators/numerics/cuda/numerics_cuda.h"
#endif

namespace evolv::numerics {

static_assert(static_cast<int>(cuda::FlatOp::kAdd) == static_cast<int>(Op::kAdd) &&
                  static_cast<int>(cuda::FlatOp::kSub) == static_cast<int>(Op::kSub) &&
                  static_cast<int>(cuda::FlatOp::kMul) == static_cast<int>(Op::kMul) &&
                  static_cast<int>(cuda::FlatOp::kDiv) == static_cast<int>(Op::kDiv) &&
                  static_cast<int>(cuda::FlatOp::kFma) == static_cast<int>(Op::kFma),
              "FlatOp mirrors Op");

template <typename T>
bool ToFlatProgram(const Program& p, cuda::FlatProgram<T>* out) {
  const std::vector<bool> live = LiveValues(p), dep = DependsOnX(p);
  const std::vector<T> folded = FoldConstants<T>(p);
  out->steps.clear();
  out->constants.clear();
  std::vector<int16_t> slot_of(p.num_values(), 0);  // x-dependent values: their slot
  auto operand = [&](uint32_t v) -> int16_t {
    if (dep[v]) return slot_of[v];
    out->constants.push_back(folded[v]);
    return static_cast<int16_t>(-static_cast<int>(out->constants.size()));
  };
  for (size_t i = 0; i < p.instructions.size(); ++i) {
    const uint32_t v = p.value_of(i);
    if (!live[v] || !dep[v]) continue;
    if (out->steps.size() == cuda::kMaxFlatSteps) return false;
    const Instruction& in = p.instructions[i];
    cuda::FlatStep s;
    s.op = static_cast<cuda::FlatOp>(in.op);
    s.a = operand(in.a);
    s.b = operand(in.b);
    if (in.op == Op::kFma) s.c = operand(in.c);
    out->steps.push_back(s);
    slot_of[v] = static_cast<int16_t>(out->steps.size());
  }
  out->result = operand(p.result());
  return true;
}

template bool ToFlatProgram<float>(const Program& p, cuda::FlatProgram<float>* out);
template bool ToFlatProgram<double>(const Program& p, cuda::FlatProgram<double>* out);

bool ToDeviceTarget(const Target& target, cuda::DeviceTarget* out) {
  return cuda::DeviceTargetByName(target.name, out);
}

bool FloatBatchOnDevice(int cuda_device, const std::vector<Program>& programs,
                        const std::vector<float>& x, std::vector<float>* out,
                        std::string* why_not) {
#if EVOLV_HAVE_CUDA
  std::vector<cuda::FlatProgram<float>> flat(programs.size());
  for (size_t j = 0; j < programs.size(); ++j) {
    if (!ToFlatProgram(programs[j], &flat[j])) {
      *why_not = "the program has more steps than the device takes";
      return false;
    }
  }
  return cuda::EvaluateBatch(cuda_device, flat, x, out, why_not);
#else
  (void)cuda_device;
  (void)programs;
  (void)x;
  (void)out;
  *why_not = "this build has no CUDA support";
  return false;
#endif
}

std::vector<ExhaustiveResult> VerifyEveryFloat(const std::vector<const Program*>& programs,
                                               const Target& target, float lower, float upper,
                                               int cuda_device, std::vector<VerifiedOn>* on) {
  const size_t n = programs.size();
  on->assign(n, VerifiedOn{});
  std::vector<ExhaustiveResult> results(n);
  if (cuda_device >= 0 && n > 0) {
    std::string why_not;
#if EVOLV_HAVE_CUDA
    cuda::DeviceTarget device_target;
    std::vector<cuda::FlatProgram<float>> flat;
    std::vector<size_t> flat_of;  // the programs the device runs, in the launch's order
    for (size_t j = 0; j < n; ++j) {
      cuda::FlatProgram<float> f;
      if (ToFlatProgram(*programs[j], &f)) {
        flat.push_back(std::move(f));
        flat_of.push_back(j);
      } else {
        (*on)[j].why_not = "the program has more steps than the device takes";
      }
    }
    std::vector<ExhaustiveResult> launched;
    if (!ToDeviceTarget(target, &device_target)) {
      why_not = "the target has no device reference";
    } else if (!flat.empty() && cuda::VerifyAllFloats(cuda_device, flat, device_target, lower,
                                                      upper, &launched, &why_not)) {
      for (size_t i = 0; i < flat_of.size(); ++i) {
        results[flat_of[i]] = launched[i];
        (*on)[flat_of[i]].device = true;
      }
    }
#else
    why_not = "this build has no CUDA support";
#endif
    for (size_t j = 0; j < n; ++j) {
      if ((*on)[j].device) continue;
      if ((*on)[j].why_not.empty()) (*on)[j].why_not = why_not;
      SayNotOnDevice("numerics", "every-float verification", cuda_device, (*on)[j].why_not);
    }
  }
  for (size_t j = 0; j < n; ++j) {
    if (!(*on)[j].device) results[j] = VerifyAllFloats(*programs[j], target, lower, upper);
  }
  return results;
}

}  // namespace evolv::numerics
