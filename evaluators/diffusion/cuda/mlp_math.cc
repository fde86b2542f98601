#include "evaluators/diffusion/cuda/mlp_math.h"

#include <algorithm>

namespace evolv::diffusion::cuda {
namespace {

// out (rows x n) = epilogue(W in + b) for in (cols x n); each element's products summed from
// k = 0 up, as the kernel sums them (the loop over rows innermost only for speed).
void Dense(const float* w, const float* b, int rows, int cols, const float* in, int64_t n,
           Epilogue epilogue, float* out) {
  std::vector<float> sum(rows);
  for (int64_t j = 0; j < n; ++j) {
    std::fill(sum.begin(), sum.end(), 0.0f);
    const float* column = in + j * cols;
    for (int k = 0; k < cols; ++k) {
      const float xk = column[k];
      const float* wk = w + int64_t{k} * rows;
      for (int r = 0; r < rows; ++r) sum[r] = sum[r] + wk[r] * xk;
    }
    float* o = out + j * rows;
    for (int r = 0; r < rows; ++r)
      o[r] = Finish(sum[r], b[r], epilogue, epilogue == Epilogue::kResidual ? o[r] : 0.0f);
  }
}

}  // namespace

void ForwardOnHost(const MlpDims& dims, const float* parameters, const float* x, int64_t n,
                   const std::vector<uint8_t>& skipped, float* y) {
  const MlpLayout l(dims);
  const int w = dims.width;
  std::vector<float> h(static_cast<size_t>(w) * n), t(static_cast<size_t>(w) * n);
  Dense(parameters + l.w_in, parameters + l.b_in, w, dims.input, x, n, Epilogue::kAffine, h.data());
  for (int b = 0; b < dims.blocks; ++b) {
    if (b < static_cast<int>(skipped.size()) && skipped[b] != 0) continue;
    Dense(parameters + l.W1(b), parameters + l.B1(b), w, w, h.data(), n, Epilogue::kSilu, t.data());
    Dense(parameters + l.W2(b), parameters + l.B2(b), w, w, t.data(), n, Epilogue::kResidual,
          h.data());
  }
  Dense(parameters + l.w_out, parameters + l.b_out, dims.output, w, h.data(), n, Epilogue::kAffine,
        y);
}

}  // namespace evolv::diffusion::cuda
