#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "evaluators/numerics/cuda/numerics_cuda.h"

namespace evolv::numerics::cuda {
namespace {

// A step reads at most two constants (one operand depends on x), plus the result.
constexpr int kMaxFlatConstants = 2 * kMaxFlatSteps + 1;
constexpr int kThreads = 256;

// One program as the kernels read it: copied to device memory, then into each block's shared
// memory (raw storage there: FlatStep's member initializers make it non-trivial), where every
// thread of a warp reads the same step at once (a broadcast).
template <typename T>
struct DeviceProgram {
  FlatStep steps[kMaxFlatSteps];
  T constants[kMaxFlatConstants];
  int num_steps;
  int16_t result;
};

template <typename T>
bool Pack(const FlatProgram<T>& p, DeviceProgram<T>* out, std::string* error) {
  if (p.steps.size() > static_cast<size_t>(kMaxFlatSteps) ||
      p.constants.size() > static_cast<size_t>(kMaxFlatConstants)) {
    *error = "program has " + std::to_string(p.steps.size()) + " steps and " +
             std::to_string(p.constants.size()) + " constants; the device takes at most " +
             std::to_string(kMaxFlatSteps) + " and " + std::to_string(kMaxFlatConstants);
    return false;
  }
  *out = DeviceProgram<T>{};
  std::copy(p.steps.begin(), p.steps.end(), out->steps);
  std::copy(p.constants.begin(), p.constants.end(), out->constants);
  out->num_steps = static_cast<int>(p.steps.size());
  out->result = p.result;
  return true;
}

bool Check(cudaError_t status, const char* what, std::string* error) {
  if (status == cudaSuccess) return true;
  *error = std::string(what) + ": " + cudaGetErrorString(status);
  cudaGetLastError();  // clears a non-sticky error so later calls on this thread start clean
  return false;
}

// Device memory for n objects of T, freed on scope exit.
template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() {
    if (data_ != nullptr) cudaFree(data_);
  }
  bool Allocate(size_t n, std::string* error) {
    return Check(cudaMalloc(reinterpret_cast<void**>(&data_), std::max<size_t>(1, n) * sizeof(T)),
                 "cudaMalloc", error);
  }
  T* get() const { return data_; }

 private:
  T* data_ = nullptr;
};

// A start and a stop event, destroyed on scope exit: times the work queued between them.
struct Events {
  cudaEvent_t start = nullptr, stop = nullptr;
  Events() = default;
  Events(const Events&) = delete;
  Events& operator=(const Events&) = delete;
  ~Events() {
    if (start != nullptr) cudaEventDestroy(start);
    if (stop != nullptr) cudaEventDestroy(stop);
  }
  bool Create(std::string* error) {
    return Check(cudaEventCreate(&start), "cudaEventCreate", error) &&
           Check(cudaEventCreate(&stop), "cudaEventCreate", error);
  }
  bool Elapsed(double* seconds, std::string* error) {
    float ms = 0;
    if (!Check(cudaEventRecord(stop), "cudaEventRecord", error) ||
        !Check(cudaEventSynchronize(stop), "kernel", error) ||
        !Check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime", error)) {
      return false;
    }
    *seconds = ms / 1e3;
    return true;
  }
};

// Copies `count` programs from device memory into the block's shared memory.
template <typename T>
__device__ void LoadPrograms(const DeviceProgram<T>* from, int count, DeviceProgram<T>* to) {
  const int words = count * static_cast<int>(sizeof(DeviceProgram<T>) / sizeof(uint32_t));
  const uint32_t* src = reinterpret_cast<const uint32_t*>(from);
  uint32_t* dst = reinterpret_cast<uint32_t*>(to);
  for (int i = threadIdx.x; i < words; i += blockDim.x) dst[i] = src[i];
  __syncthreads();
}

template <typename T>
__device__ void LoadProgram(const DeviceProgram<T>& from, DeviceProgram<T>* to) {
  LoadPrograms(&from, 1, to);
}

// Block y runs program blockIdx.y + program_offset over all points, grid-stride in x.
template <typename T>
__global__ void BatchKernel(const DeviceProgram<T>* programs, int program_offset, const T* x,
                            uint64_t n, T* out) {
  __shared__ alignas(DeviceProgram<T>) unsigned char storage[sizeof(DeviceProgram<T>)];
  DeviceProgram<T>& p = *reinterpret_cast<DeviceProgram<T>*>(storage);
  const int j = program_offset + static_cast<int>(blockIdx.y);
  LoadProgram(programs[j], &p);
  T* row = out + static_cast<uint64_t>(j) * n;
  const uint64_t stride = static_cast<uint64_t>(gridDim.x) * blockDim.x;
  for (uint64_t i = static_cast<uint64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    row[i] = RunFlat(p.steps, p.num_steps, p.constants, p.result, x[i]);
  }
}

__global__ void ReferenceKernel(DeviceTarget target, const float* x, uint64_t n, float* out,
                                unsigned long long* slow) {
  uint64_t count = 0;
  const uint64_t stride = static_cast<uint64_t>(gridDim.x) * blockDim.x;
  for (uint64_t i = static_cast<uint64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    out[i] = CorrectlyRoundedFloat(target, x[i], &count);
  }
  if (count > 0) atomicAdd(slow, static_cast<unsigned long long>(count));
}

struct BlockWorst {
  double max_ulp;
  int64_t worst;  // ordered index of the smallest x with max_ulp
  unsigned long long slow;
};

// Whether (e, k) beats (best, best_k): a larger error, or the same nonzero error at a smaller x.
__device__ bool Beats(double e, int64_t k, double best, int64_t best_k) {
  return e > best || (e == best && e > 0 && k < best_k);
}

// Programs verified in one launch share each float's reference, the costly part (the target in
// double, and double-double near midpoints): block (x, y) runs programs kGroup * y and the next
// ones (at most kGroup) over its share of the floats, computing each float's reference once.
constexpr int kGroup = 8;

// out[(blockIdx.y * gridDim.x + blockIdx.x) * kGroup + g]: the block's worst float for program
// kGroup * blockIdx.y + g, and the floats whose reference needed double-double (the same count
// for every program of the group).
__global__ void VerifyKernel(const DeviceProgram<float>* programs, int count, DeviceTarget target,
                             int64_t first, uint64_t total, BlockWorst* out) {
  const int base = static_cast<int>(blockIdx.y) * kGroup;
  const int in_group = min(kGroup, count - base);
  __shared__ alignas(
      DeviceProgram<float>) unsigned char storage[kGroup * sizeof(DeviceProgram<float>)];
  DeviceProgram<float>* p = reinterpret_cast<DeviceProgram<float>*>(storage);
  LoadPrograms(programs + base, in_group, p);
  double best[kGroup];
  int64_t best_k[kGroup];
#pragma unroll
  for (int g = 0; g < kGroup; ++g) {
    best[g] = 0;
    best_k[g] = INT64_MAX;
  }
  uint64_t slow = 0;
  const uint64_t stride = static_cast<uint64_t>(gridDim.x) * blockDim.x;
  for (uint64_t i = static_cast<uint64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += stride) {
    const int64_t k = first + static_cast<int64_t>(i);
    const float x = FloatOfOrdered(k);
    const float reference = CorrectlyRoundedFloat(target, x, &slow);
#pragma unroll
    for (int g = 0; g < kGroup; ++g) {
      if (g < in_group) {
        const double e = UlpError(
            RunFlat(p[g].steps, p[g].num_steps, p[g].constants, p[g].result, x), reference);
        if (Beats(e, k, best[g], best_k[g])) {
          best[g] = e;
          best_k[g] = k;
        }
      }
    }
  }
  __shared__ double s_best[kThreads];
  __shared__ int64_t s_k[kThreads];
  __shared__ unsigned long long s_slow[kThreads];
  s_slow[threadIdx.x] = slow;
  __syncthreads();
  for (int half = kThreads / 2; half > 0; half /= 2) {
    if (threadIdx.x < half) s_slow[threadIdx.x] += s_slow[threadIdx.x + half];
    __syncthreads();
  }
  BlockWorst* block_out =
      out + (static_cast<uint64_t>(blockIdx.y) * gridDim.x + blockIdx.x) * kGroup;
#pragma unroll
  for (int g = 0; g < kGroup; ++g) {
    if (g >= in_group) break;
    s_best[threadIdx.x] = best[g];
    s_k[threadIdx.x] = best_k[g];
    __syncthreads();
    for (int half = kThreads / 2; half > 0; half /= 2) {
      if (threadIdx.x < half) {
        const int o = threadIdx.x + half;
        if (Beats(s_best[o], s_k[o], s_best[threadIdx.x], s_k[threadIdx.x])) {
          s_best[threadIdx.x] = s_best[o];
          s_k[threadIdx.x] = s_k[o];
        }
      }
      __syncthreads();
    }
    if (threadIdx.x == 0) block_out[g] = {s_best[0], s_k[0], s_slow[0]};
    __syncthreads();  // s_best and s_k are written again for the next program
  }
}

bool UseDevice(int device, int* blocks, std::string* error) {
  if (!Check(cudaSetDevice(device), "cudaSetDevice", error)) return false;
  int sms = 0;
  if (!Check(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device),
             "cudaDeviceGetAttribute", error)) {
    return false;
  }
  *blocks = std::max(1, sms) * 8;
  return true;
}

template <typename T>
bool EvaluateBatchT(int device, const std::vector<FlatProgram<T>>& programs,
                    const std::vector<T>& x, std::vector<T>* out, std::string* error,
                    double* kernel_seconds) {
  std::vector<DeviceProgram<T>> packed(programs.size());
  for (size_t j = 0; j < programs.size(); ++j) {
    if (!Pack(programs[j], &packed[j], error)) {
      *error = "program " + std::to_string(j) + ": " + *error;
      return false;
    }
  }
  out->assign(programs.size() * x.size(), T(0));
  if (programs.empty() || x.empty()) return true;
  int blocks = 0;
  if (!UseDevice(device, &blocks, error)) return false;
  DeviceBuffer<DeviceProgram<T>> d_programs;
  DeviceBuffer<T> d_x, d_out;
  if (!d_programs.Allocate(packed.size(), error) || !d_x.Allocate(x.size(), error) ||
      !d_out.Allocate(out->size(), error)) {
    return false;
  }
  if (!Check(cudaMemcpy(d_programs.get(), packed.data(), packed.size() * sizeof(packed[0]),
                        cudaMemcpyHostToDevice),
             "cudaMemcpy", error) ||
      !Check(cudaMemcpy(d_x.get(), x.data(), x.size() * sizeof(T), cudaMemcpyHostToDevice),
             "cudaMemcpy", error)) {
    return false;
  }
  Events events;
  if (kernel_seconds != nullptr && !events.Create(error)) return false;
  if (kernel_seconds != nullptr &&
      !Check(cudaEventRecord(events.start), "cudaEventRecord", error)) {
    return false;
  }
  const uint64_t n = x.size();
  const unsigned x_blocks =
      static_cast<unsigned>(std::min<uint64_t>((n + kThreads - 1) / kThreads, blocks));
  constexpr int kMaxGridY = 65535;
  for (size_t start = 0; start < programs.size(); start += kMaxGridY) {
    const unsigned rows =
        static_cast<unsigned>(std::min<size_t>(kMaxGridY, programs.size() - start));
    BatchKernel<T><<<dim3(x_blocks, rows), kThreads>>>(d_programs.get(), static_cast<int>(start),
                                                       d_x.get(), n, d_out.get());
    if (!Check(cudaGetLastError(), "batch kernel launch", error)) return false;
  }
  if (kernel_seconds != nullptr && !events.Elapsed(kernel_seconds, error)) return false;
  return Check(
      cudaMemcpy(out->data(), d_out.get(), out->size() * sizeof(T), cudaMemcpyDeviceToHost),
      "batch kernel", error);
}

}  // namespace

bool ListDevices(std::vector<DeviceInfo>* out, std::string* error) {
  out->clear();
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status == cudaErrorNoDevice) {
    cudaGetLastError();
    return true;
  }
  if (!Check(status, "cudaGetDeviceCount", error)) return false;
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (!Check(cudaGetDeviceProperties(&prop, i), "cudaGetDeviceProperties", error)) return false;
    DeviceInfo info;
    info.index = i;
    info.name = prop.name;
    info.memory_bytes = prop.totalGlobalMem;
    info.major = prop.major;
    info.minor = prop.minor;
    out->push_back(info);
  }
  return true;
}

bool EvaluateBatch(int device, const std::vector<FlatProgram<float>>& programs,
                   const std::vector<float>& x, std::vector<float>* out, std::string* error,
                   double* kernel_seconds) {
  return EvaluateBatchT(device, programs, x, out, error, kernel_seconds);
}

bool EvaluateBatch(int device, const std::vector<FlatProgram<double>>& programs,
                   const std::vector<double>& x, std::vector<double>* out, std::string* error,
                   double* kernel_seconds) {
  return EvaluateBatchT(device, programs, x, out, error, kernel_seconds);
}

bool ReferenceFloats(int device, DeviceTarget target, const std::vector<float>& x,
                     std::vector<float>* out, uint64_t* slow, std::string* error) {
  out->assign(x.size(), 0.0f);
  *slow = 0;
  if (x.empty()) return true;
  int blocks = 0;
  if (!UseDevice(device, &blocks, error)) return false;
  DeviceBuffer<float> d_x, d_out;
  DeviceBuffer<unsigned long long> d_slow;
  if (!d_x.Allocate(x.size(), error) || !d_out.Allocate(x.size(), error) ||
      !d_slow.Allocate(1, error)) {
    return false;
  }
  if (!Check(cudaMemcpy(d_x.get(), x.data(), x.size() * sizeof(float), cudaMemcpyHostToDevice),
             "cudaMemcpy", error) ||
      !Check(cudaMemset(d_slow.get(), 0, sizeof(unsigned long long)), "cudaMemset", error)) {
    return false;
  }
  const uint64_t n = x.size();
  blocks = static_cast<int>(std::min<uint64_t>(blocks, (n + kThreads - 1) / kThreads));
  ReferenceKernel<<<blocks, kThreads>>>(target, d_x.get(), n, d_out.get(), d_slow.get());
  if (!Check(cudaGetLastError(), "reference kernel launch", error)) return false;
  unsigned long long count = 0;
  if (!Check(cudaMemcpy(out->data(), d_out.get(), n * sizeof(float), cudaMemcpyDeviceToHost),
             "reference kernel", error) ||
      !Check(cudaMemcpy(&count, d_slow.get(), sizeof count, cudaMemcpyDeviceToHost), "cudaMemcpy",
             error)) {
    return false;
  }
  *slow = count;
  return true;
}

bool VerifyAllFloats(int device, const std::vector<FlatProgram<float>>& programs,
                     DeviceTarget target, float lower, float upper,
                     std::vector<ExhaustiveResult>* out, std::string* error) {
  const auto start_time = std::chrono::steady_clock::now();
  if (!IsFinite(lower) || !IsFinite(upper) || !(lower <= upper)) {
    *error = "interval: expected finite lower <= upper";
    return false;
  }
  const bool periodic = target == DeviceTarget::kSin || target == DeviceTarget::kCos;
  if (periodic && std::max(std::fabs(lower), std::fabs(upper)) > 0x1p20f) {
    *error = "interval: sin and cos are verified on the device for |x| <= 2^20 only";
    return false;
  }
  if (programs.size() > static_cast<size_t>(kMaxVerifyBatch)) {
    *error = "batch: " + std::to_string(programs.size()) + " programs; at most " +
             std::to_string(kMaxVerifyBatch) + " per launch";
    return false;
  }
  const int count = static_cast<int>(programs.size());
  std::vector<DeviceProgram<float>> packed(count);
  for (int j = 0; j < count; ++j) {
    if (!Pack(programs[j], &packed[j], error)) return false;
  }
  if (count == 0) {
    out->clear();
    return true;
  }
  int blocks = 0;
  if (!UseDevice(device, &blocks, error)) return false;
  const int64_t first = OrderedOf(lower), last = OrderedOf(upper);
  const uint64_t total = static_cast<uint64_t>(last - first + 1);
  const int groups = (count + kGroup - 1) / kGroup;
  blocks = static_cast<int>(std::min<uint64_t>(blocks, (total + kThreads - 1) / kThreads));
  DeviceBuffer<DeviceProgram<float>> d_programs;
  DeviceBuffer<BlockWorst> d_worst;
  const size_t cells = static_cast<size_t>(blocks) * groups * kGroup;
  if (!d_programs.Allocate(count, error) || !d_worst.Allocate(cells, error)) return false;
  if (!Check(cudaMemcpy(d_programs.get(), packed.data(), count * sizeof(DeviceProgram<float>),
                        cudaMemcpyHostToDevice),
             "cudaMemcpy", error)) {
    return false;
  }
  VerifyKernel<<<dim3(blocks, groups), kThreads>>>(d_programs.get(), count, target, first, total,
                                                   d_worst.get());
  if (!Check(cudaGetLastError(), "verify kernel launch", error)) return false;
  std::vector<BlockWorst> worst(cells);
  if (!Check(cudaMemcpy(worst.data(), d_worst.get(), cells * sizeof(BlockWorst),
                        cudaMemcpyDeviceToHost),
             "verify kernel", error)) {
    return false;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
  out->assign(count, ExhaustiveResult{});
  for (int j = 0; j < count; ++j) {
    ExhaustiveResult& result = (*out)[j];
    result.checked = total;
    int64_t worst_k = INT64_MAX;
    for (int b = 0; b < blocks; ++b) {
      const BlockWorst& w =
          worst[(static_cast<size_t>(j / kGroup) * blocks + b) * kGroup + j % kGroup];
      result.slow_path += w.slow;
      if (w.max_ulp > result.max_ulp ||
          (w.max_ulp == result.max_ulp && w.max_ulp > 0 && w.worst < worst_k)) {
        result.max_ulp = w.max_ulp;
        worst_k = w.worst;
      }
    }
    result.worst_x = result.max_ulp > 0 ? FloatOfOrdered(worst_k) : lower;
    result.seconds = seconds / count;
  }
  return true;
}

bool VerifyAllFloats(int device, const FlatProgram<float>& p, DeviceTarget target, float lower,
                     float upper, ExhaustiveResult* out, std::string* error) {
  std::vector<ExhaustiveResult> results;
  if (!VerifyAllFloats(device, std::vector<FlatProgram<float>>{p}, target, lower, upper, &results,
                       error)) {
    return false;
  }
  *out = results.front();
  return true;
}

}  // namespace evolv::numerics::cuda
