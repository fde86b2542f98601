#include <cuda_runtime.h>

#include <algorithm>
#include <string>
#include <vector>

#include "evaluators/diffusion/cuda/mlp_cuda.h"

namespace evolv::diffusion::cuda {
namespace {

// A block computes a 64 x 64 tile of a layer's output with 256 threads, 4 x 4 elements each
// (rows tr + 16 i, columns tc + 16 j), reading W and the input through shared memory 16 terms of
// the sum at a time. Each element's products are added in k order, as ForwardOnHost adds them.
constexpr int kTile = 64;
constexpr int kTileK = 16;
constexpr int kThreads = 256;

__global__ void DenseKernel(const float* __restrict__ w, const float* __restrict__ bias, int rows,
                            int cols, const float* __restrict__ in, int64_t n, Epilogue epilogue,
                            float* out) {
  __shared__ float ws[kTileK][kTile];
  __shared__ float xs[kTileK][kTile + 1];
  const int tr = threadIdx.x % 16, tc = threadIdx.x / 16;
  const int row0 = blockIdx.y * kTile;
  const int64_t col0 = static_cast<int64_t>(blockIdx.x) * kTile;
  float sum[4][4];
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) sum[i][j] = 0.0f;
  for (int k0 = 0; k0 < cols; k0 += kTileK) {
    const int kn = min(kTileK, cols - k0);
    for (int e = threadIdx.x; e < kTileK * kTile; e += kThreads) {
      const int kk = e / kTile, r = e % kTile;  // consecutive threads: consecutive rows of W
      ws[kk][r] =
          kk < kn && row0 + r < rows ? w[(row0 + r) + static_cast<int64_t>(k0 + kk) * rows] : 0.0f;
      const int xk = e % kTileK, c = e / kTileK;  // consecutive threads: down one input column
      xs[xk][c] = xk < kn && col0 + c < n ? in[(k0 + xk) + (col0 + c) * cols] : 0.0f;
    }
    __syncthreads();
    for (int kk = 0; kk < kn; ++kk) {
      float a[4], x[4];
      for (int i = 0; i < 4; ++i) a[i] = ws[kk][tr + 16 * i];
      for (int j = 0; j < 4; ++j) x[j] = xs[kk][tc + 16 * j];
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) sum[i][j] = sum[i][j] + a[i] * x[j];
    }
    __syncthreads();
  }
  for (int j = 0; j < 4; ++j) {
    const int64_t c = col0 + tc + 16 * j;
    if (c >= n) continue;
    for (int i = 0; i < 4; ++i) {
      const int r = row0 + tr + 16 * i;
      if (r >= rows) continue;
      float* o = out + r + c * rows;
      *o = Finish(sum[i][j], bias[r], epilogue, epilogue == Epilogue::kResidual ? *o : 0.0f);
    }
  }
}

bool Check(cudaError_t status, const char* what, std::string* error) {
  if (status == cudaSuccess) return true;
  *error = std::string(what) + ": " + cudaGetErrorString(status);
  cudaGetLastError();  // clears a non-sticky error so later calls on this thread start clean
  return false;
}

}  // namespace

struct DeviceMlp::State {
  float* parameters = nullptr;
  float* x = nullptr;  // input x kMaxColumnsPerPass
  float* h = nullptr;  // width x kMaxColumnsPerPass, the residual stream
  float* t = nullptr;  // width x kMaxColumnsPerPass, a block's hidden layer
  float* y = nullptr;  // output x kMaxColumnsPerPass
  cudaStream_t stream = nullptr;
  cudaEvent_t start = nullptr, stop = nullptr;

  void Free() {
    for (float* p : {parameters, x, h, t, y}) {
      if (p != nullptr) cudaFree(p);
    }
    parameters = x = h = t = y = nullptr;
    if (start != nullptr) cudaEventDestroy(start);
    if (stop != nullptr) cudaEventDestroy(stop);
    if (stream != nullptr) cudaStreamDestroy(stream);
    start = stop = nullptr;
    stream = nullptr;
  }

  // out = epilogue(W in + b) for `n` columns, on the stream.
  void Dense(int64_t w, int64_t b, int rows, int cols, const float* in, int64_t n,
             Epilogue epilogue, float* out) const {
    const dim3 grid(static_cast<unsigned>((n + kTile - 1) / kTile),
                    static_cast<unsigned>((rows + kTile - 1) / kTile));
    DenseKernel<<<grid, kThreads, 0, stream>>>(parameters + w, parameters + b, rows, cols, in, n,
                                               epilogue, out);
  }
};

DeviceMlp::DeviceMlp(int device, const MlpDims& dims, std::unique_ptr<State> state)
    : device_(device), dims_(dims), state_(std::move(state)) {}

DeviceMlp::~DeviceMlp() {
  if (cudaSetDevice(device_) == cudaSuccess) state_->Free();
}

std::unique_ptr<DeviceMlp> DeviceMlp::Create(int device, const MlpDims& dims,
                                             const std::vector<float>& parameters,
                                             std::string* error) {
  if (dims.input <= 0 || dims.width <= 0 || dims.blocks < 0 || dims.output <= 0 ||
      static_cast<int64_t>(parameters.size()) != MlpLayout(dims).total) {
    *error = "the parameters do not match the network's sizes";
    return nullptr;
  }
  int count = 0;
  if (!Check(cudaGetDeviceCount(&count), "cudaGetDeviceCount", error)) return nullptr;
  if (device < 0 || device >= count) {
    *error = "no CUDA device " + std::to_string(device) + " (" + std::to_string(count) + " seen)";
    return nullptr;
  }
  if (!Check(cudaSetDevice(device), "cudaSetDevice", error)) return nullptr;
  auto state = std::make_unique<State>();
  const size_t columns = static_cast<size_t>(kMaxColumnsPerPass);
  const size_t width = static_cast<size_t>(dims.width);
  const bool ok =
      Check(cudaMalloc(&state->parameters, parameters.size() * sizeof(float)), "cudaMalloc",
            error) &&
      Check(cudaMalloc(&state->x, dims.input * columns * sizeof(float)), "cudaMalloc", error) &&
      Check(cudaMalloc(&state->h, width * columns * sizeof(float)), "cudaMalloc", error) &&
      Check(cudaMalloc(&state->t, width * columns * sizeof(float)), "cudaMalloc", error) &&
      Check(cudaMalloc(&state->y, dims.output * columns * sizeof(float)), "cudaMalloc", error) &&
      Check(cudaStreamCreateWithFlags(&state->stream, cudaStreamNonBlocking), "cudaStreamCreate",
            error) &&
      Check(cudaEventCreate(&state->start), "cudaEventCreate", error) &&
      Check(cudaEventCreate(&state->stop), "cudaEventCreate", error) &&
      Check(cudaMemcpy(state->parameters, parameters.data(), parameters.size() * sizeof(float),
                       cudaMemcpyHostToDevice),
            "cudaMemcpy", error);
  if (!ok) {
    state->Free();
    return nullptr;
  }
  return std::unique_ptr<DeviceMlp>(new DeviceMlp(device, dims, std::move(state)));
}

bool DeviceMlp::Forward(const float* x, int64_t n, const std::vector<uint8_t>& skipped,
                        std::vector<float>* y, std::string* error, double* kernel_seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  const MlpLayout l(dims_);
  const int w = dims_.width;
  y->resize(static_cast<size_t>(dims_.output) * static_cast<size_t>(std::max<int64_t>(n, 0)));
  if (!Check(cudaSetDevice(device_), "cudaSetDevice", error)) return false;
  const State& s = *state_;
  for (int64_t first = 0; first < n; first += kMaxColumnsPerPass) {
    const int64_t m = std::min(kMaxColumnsPerPass, n - first);
    if (!Check(cudaMemcpyAsync(s.x, x + first * dims_.input, m * dims_.input * sizeof(float),
                               cudaMemcpyHostToDevice, s.stream),
               "cudaMemcpyAsync", error) ||
        !Check(cudaEventRecord(s.start, s.stream), "cudaEventRecord", error)) {
      return false;
    }
    s.Dense(l.w_in, l.b_in, w, dims_.input, s.x, m, Epilogue::kAffine, s.h);
    for (int b = 0; b < dims_.blocks; ++b) {
      if (b < static_cast<int>(skipped.size()) && skipped[b] != 0) continue;
      s.Dense(l.W1(b), l.B1(b), w, w, s.h, m, Epilogue::kSilu, s.t);
      s.Dense(l.W2(b), l.B2(b), w, w, s.t, m, Epilogue::kResidual, s.h);
    }
    s.Dense(l.w_out, l.b_out, dims_.output, w, s.h, m, Epilogue::kAffine, s.y);
    if (!Check(cudaGetLastError(), "DenseKernel launch", error) ||
        !Check(cudaEventRecord(s.stop, s.stream), "cudaEventRecord", error) ||
        !Check(cudaMemcpyAsync(y->data() + first * dims_.output, s.y,
                               m * dims_.output * sizeof(float), cudaMemcpyDeviceToHost, s.stream),
               "cudaMemcpyAsync", error) ||
        !Check(cudaStreamSynchronize(s.stream), "cudaStreamSynchronize", error)) {
      return false;
    }
    if (kernel_seconds != nullptr) {
      float ms = 0;
      if (!Check(cudaEventElapsedTime(&ms, s.start, s.stop), "cudaEventElapsedTime", error)) {
        return false;
      }
      *kernel_seconds += ms / 1e3;
    }
  }
  return true;
}

}  // namespace evolv::diffusion::cuda
