// The learned denoiser's residual MLP (evaluators/diffusion/residual_mlp.h) as the device computes
// it, in code shared by the CUDA kernels and their host twin: the flat parameter layout, an exp
// and silu made of +, *, / and exact scalings only, and one output element of a dense layer
// summed in a fixed order. Compiled without contraction into fma (nvcc --fmad=false, the host
// with -ffp-contract=off), the device and the host twin (ForwardOnHost) give the same bits, so
// tests on a machine without a GPU check what the device computes; the twin differs from the
// Eigen network (its summation order and exp) within the bound DiffusionProblem::CompareHit
// allows. Everything under evaluators/diffusion/cuda/ builds with nvcc and CMake alone.
#pragma once

#include <cstdint>
#include <vector>

#include "evaluators/common/cuda_portable.h"

namespace evolv::diffusion::cuda {

// The network's sizes (MlpShape): input x, width of the hidden layers, residual blocks, output.
struct MlpDims {
  int input = 0;
  int width = 0;
  int blocks = 0;
  int output = 0;
};

// Offsets into the flat parameter vector (the layout of DenoiserModel.parameters): W_in (width x
// input, column-major as Eigen stores it), b_in, then per block W1, b1, W2, b2, then W_out (output
// x width) and b_out.
struct MlpLayout {
  int64_t w_in, b_in, first_block, block_size, w_out, b_out, total;
  int64_t width;

  EVOLV_HD explicit MlpLayout(const MlpDims& d) : width(d.width) {
    w_in = 0;
    b_in = width * d.input;
    first_block = b_in + width;
    block_size = 2 * width * width + 2 * width;
    w_out = first_block + d.blocks * block_size;
    b_out = w_out + int64_t{d.output} * width;
    total = b_out + d.output;
  }
  EVOLV_HD int64_t W1(int b) const { return first_block + b * block_size; }
  EVOLV_HD int64_t B1(int b) const { return W1(b) + width * width; }
  EVOLV_HD int64_t W2(int b) const { return B1(b) + width; }
  EVOLV_HD int64_t B2(int b) const { return W2(b) + width * width; }
};

EVOLV_HD inline float Floor(float v) {
#if defined(__CUDA_ARCH__)
  return floorf(v);
#else
  return __builtin_floorf(v);
#endif
}

// e^x within a few ULP of the correctly rounded value (tests/evaluators/diffusion measure it):
// Cody-Waite reduction x = n ln2 + r, |r| <= ln2 / 2, a degree-7 Taylor polynomial in Horner form,
// and 2^n applied as two exact power-of-two factors (the second may round into the subnormals,
// the same way on both sides). inf above the float range, 0 below it, NaN for NaN.
EVOLV_HD inline float PortableExp(float x) {
  if (x != x) return x;
  if (x > 88.72283935546875f) return portable::FloatOfBits(0x7f800000u);  // +inf
  if (x < -103.97208404541015625f) return 0.0f;
  const float n = Floor(x * 1.44269502162933349609375f + 0.5f);
  // ln 2 = kLn2Hi + kLn2Lo; kLn2Hi has 16 significant bits, so n * kLn2Hi is exact for |n| <= 150.
  constexpr float kLn2Hi = 0.693145751953125f;
  constexpr float kLn2Lo = 1.428606765330187e-06f;
  const float r = (x - n * kLn2Hi) - n * kLn2Lo;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int k = static_cast<int>(n);  // -150..128
  const int k1 = k / 2, k2 = k - k1;  // each in -75..64: normal powers of two
  const float s1 = portable::FloatOfBits(static_cast<uint32_t>(k1 + 127) << 23);
  const float s2 = portable::FloatOfBits(static_cast<uint32_t>(k2 + 127) << 23);
  return (p * s1) * s2;
}

// silu(z) = z / (1 + e^-z); for very negative z, e^-z is inf and the quotient -0, as on the CPU.
EVOLV_HD inline float Silu(float z) { return z / (1.0f + PortableExp(-z)); }

// What a dense layer's output element becomes: the affine value itself, its silu, or the
// affine value added to the residual stream it updates.
enum class Epilogue { kAffine, kSilu, kResidual };

// Row `row` of W x + b for one column x (`cols` values), W `rows` x `cols` column-major: the
// products summed from k = 0 up, then the bias, then the epilogue (`residual` is the stream's
// current value for kResidual: residual + (W x + b)).
EVOLV_HD inline float Finish(float sum, float bias, Epilogue epilogue, float residual) {
  const float affine = sum + bias;
  if (epilogue == Epilogue::kSilu) return Silu(affine);
  if (epilogue == Epilogue::kResidual) return residual + affine;
  return affine;
}

// The network's output (dims.output x n, column-major) for the columns of x (dims.input x n),
// skipping block b where skipped[b] != 0 (`skipped` has dims.blocks entries), one element at a
// time in the kernels' order: the device's result, bit for bit, computed on the CPU.
void ForwardOnHost(const MlpDims& dims, const float* parameters, const float* x, int64_t n,
                   const std::vector<uint8_t>& skipped, float* y);

}  // namespace evolv::diffusion::cuda
