// The bridge from a Program to the form the CUDA path runs (cuda/flat_program.h) and from a
// Target to its device reference (cuda/reference_dd.h). Plain C++: the main build compiles it
// with or without CUDA, and its tests run the device code's host twin against the CPU paths.
#pragma once

#include <string>
#include <vector>

#include "evaluators/numerics/cuda/flat_program.h"
#include "evaluators/numerics/cuda/reference_dd.h"
#include "evaluators/numerics/program.h"
#include "evaluators/numerics/targets.h"
#include "evaluators/numerics/verify_float.h"

namespace evolv::numerics {

// `p` (valid) as live x-dependent steps over constants folded exactly as CompiledProgram<T>
// folds them, so RunFlat gives CompiledProgram<float>'s bits. False, leaving *out unspecified,
// when it has more than cuda::kMaxFlatSteps such steps. T is float or double.
template <typename T>
bool ToFlatProgram(const Program& p, cuda::FlatProgram<T>* out);

extern template bool ToFlatProgram<float>(const Program& p, cuda::FlatProgram<float>* out);
extern template bool ToFlatProgram<double>(const Program& p, cuda::FlatProgram<double>* out);

// The device reference of `target`; false for a target without one.
bool ToDeviceTarget(const Target& target, cuda::DeviceTarget* out);

// programs[j](x[i]) in float for every j and i, as out[j * x.size() + i], in one launch on CUDA
// device `cuda_device` (cuda::EvaluateBatch: CompiledProgram<float>'s bits); RefineFloatConstants'
// batch runner on a GPU worker. False with *why_not when this build has no CUDA, a program has
// more steps than the device takes, or the launch fails: the caller then runs them on the CPU.
bool FloatBatchOnDevice(int cuda_device, const std::vector<Program>& programs,
                        const std::vector<float>& x, std::vector<float>* out, std::string* why_not);

// Where VerifyEveryFloat ran, and why not on the device when it was asked for.
struct VerifiedOn {
  bool device = false;
  std::string why_not;  // empty when it ran on the device or none was asked for
};

// VerifyAllFloats (verify_float.h) of each of `programs`: on CUDA device `cuda_device` when this
// build has CUDA, the index is >= 0 and the device takes the program and interval, all such
// programs in one launch (cuda::VerifyAllFloats of a batch, which computes each float's reference
// once for all of them); on the CPU otherwise, one by one, with the same result (the device
// computes the CPU's bits). (*on)[j] says where programs[j] ran; `seconds` of those run together
// is a share of the launch's time. A device asked for but not used is logged (spdlog) with the
// reason, once per reason and process. Thread-safe.
std::vector<ExhaustiveResult> VerifyEveryFloat(const std::vector<const Program*>& programs,
                                               const Target& target, float lower, float upper,
                                               int cuda_device, std::vector<VerifiedOn>* on);

}  // namespace evolv::numerics
