// diffusion_cuda_test: the learned denoiser's network on a CUDA device (mlp_cuda.h) against its
// host twin (ForwardOnHost, which tests/evaluators/diffusion/device_network_test.cc holds to the
// Eigen network within the documented bound). Plain main, for a GPU machine without GoogleTest:
// each check prints PASS or FAIL; the exit code is 0 when all pass, 1 when one fails and 77
// (ctest's SKIP_RETURN_CODE) when there is no device.
//   diffusion_cuda_test [--device K]
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "evaluators/common/cuda_checks.h"
#include "evaluators/diffusion/cuda/mlp_cuda.h"

namespace evolv::diffusion::cuda {
namespace {

int g_device = 0;
using cuda_checks::Expect;

uint32_t Bits(float v) {
  uint32_t u;
  std::memcpy(&u, &v, sizeof u);
  return u;
}

struct Network {
  MlpDims dims;
  std::vector<float> parameters;
};

// Weights ~ N(0, scale / fan_in) as training starts them, biases small, some exactly 0.
Network RandomNetwork(const MlpDims& dims, std::mt19937& rng, double scale = 1.0) {
  Network net{dims, std::vector<float>(MlpLayout(dims).total)};
  std::normal_distribution<double> normal;
  const double fan = std::sqrt(static_cast<double>(dims.width));
  for (float& p : net.parameters) p = static_cast<float>(scale * normal(rng) / fan);
  for (size_t i = 0; i < net.parameters.size(); i += 97) net.parameters[i] = 0.0f;
  return net;
}

std::vector<float> RandomInput(int rows, int64_t n, std::mt19937& rng, double scale) {
  std::normal_distribution<double> normal;
  std::vector<float> x(static_cast<size_t>(rows) * n);
  for (float& v : x) v = static_cast<float>(scale * normal(rng));
  return x;
}

void CompareOnDevice(const Network& net, const std::vector<float>& x, int64_t n,
                     const std::vector<uint8_t>& skipped, const std::string& what) {
  std::string error;
  auto device = DeviceMlp::Create(g_device, net.dims, net.parameters, &error);
  if (!device) return Expect(false, what + ": Create: " + error);
  std::vector<float> on_device;
  if (!device->Forward(x.data(), n, skipped, &on_device, &error)) {
    return Expect(false, what + ": Forward: " + error);
  }
  std::vector<float> on_host(static_cast<size_t>(net.dims.output) * n);
  ForwardOnHost(net.dims, net.parameters.data(), x.data(), n, skipped, on_host.data());
  int64_t differ = 0, first = -1;
  for (size_t i = 0; i < on_host.size(); ++i) {
    const bool same = (on_host[i] != on_host[i] && on_device[i] != on_device[i]) ||
                      Bits(on_host[i]) == Bits(on_device[i]);
    if (!same && first < 0) first = static_cast<int64_t>(i);
    differ += same ? 0 : 1;
  }
  if (differ > 0) {
    Expect(false, what + ": " + std::to_string(differ) + " of " + std::to_string(on_host.size()) +
                      " outputs differ; first at " + std::to_string(first) + ": host " +
                      std::to_string(on_host[first]) + ", device " +
                      std::to_string(on_device[first]));
  }
}

// Sizes that fill the 64 x 64 tiles and the 16-term steps exactly, and sizes that do not.
void MatchesHostBitForBit() {
  std::mt19937 rng(11);
  const MlpDims shapes[] = {{18, 128, 8, 2}, {32, 64, 4, 16}, {5, 17, 3, 3}, {80, 200, 2, 64}};
  const int64_t columns[] = {1, 63, 64, 1000};
  for (const MlpDims& dims : shapes) {
    const Network net = RandomNetwork(dims, rng);
    for (int64_t n : columns) {
      const std::vector<float> x = RandomInput(dims.input, n, rng, 1.0);
      std::vector<uint8_t> skipped(dims.blocks, 0);
      for (int b = 0; b < dims.blocks; b += 2) skipped[b] = 1;
      const std::string what = "input " + std::to_string(dims.input) + ", width " +
                               std::to_string(dims.width) + ", n " + std::to_string(n);
      CompareOnDevice(net, x, n, {}, what);
      CompareOnDevice(net, x, n, skipped, what + ", every other block skipped");
    }
  }
}

// Large activations drive silu through e^-z = inf (-0), the subnormal range and underflow.
void MatchesHostAtTheExtremes() {
  std::mt19937 rng(12);
  const MlpDims dims{8, 48, 3, 4};
  const Network net = RandomNetwork(dims, rng, 60.0);
  const int64_t n = 300;
  CompareOnDevice(net, RandomInput(dims.input, n, rng, 40.0), n, {}, "large activations");
}

// More columns than one pass takes: the pieces join seamlessly.
void MatchesHostAcrossPasses() {
  std::mt19937 rng(13);
  const MlpDims dims{6, 16, 2, 6};
  const Network net = RandomNetwork(dims, rng);
  const int64_t n = kMaxColumnsPerPass * 2 + 77;
  CompareOnDevice(net, RandomInput(dims.input, n, rng, 1.0), n, {1, 0}, "several passes");
}

// Threads sharing one DeviceMlp get what each would alone.
void ConcurrentCallsAgree() {
  std::mt19937 rng(14);
  const MlpDims dims{18, 64, 4, 2};
  const Network net = RandomNetwork(dims, rng);
  std::string error;
  auto device = DeviceMlp::Create(g_device, dims, net.parameters, &error);
  if (!device) return Expect(false, "Create: " + error);
  const int64_t n = 500;
  std::vector<std::vector<float>> inputs, results(4);
  for (int i = 0; i < 4; ++i) inputs.push_back(RandomInput(dims.input, n, rng, 1.0));
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      std::string e;
      ok[i] = device->Forward(inputs[i].data(), n, {}, &results[i], &e) ? 1 : 0;
    });
  }
  for (std::thread& t : threads) t.join();
  for (int i = 0; i < 4; ++i) {
    std::vector<float> host(static_cast<size_t>(dims.output) * n);
    ForwardOnHost(dims, net.parameters.data(), inputs[i].data(), n, {}, host.data());
    Expect(ok[i] == 1 && std::memcmp(host.data(), results[i].data(), host.size() * 4) == 0,
           "thread " + std::to_string(i));
  }
}

void RejectsWhatItCannotRun() {
  std::string error;
  const MlpDims dims{4, 8, 1, 4};
  Expect(!DeviceMlp::Create(g_device, dims, std::vector<float>(3), &error) && !error.empty(),
         "a parameter vector of the wrong size is refused");
  int count = 0;
  cudaGetDeviceCount(&count);
  error.clear();
  Expect(!DeviceMlp::Create(count, dims, std::vector<float>(MlpLayout(dims).total), &error) &&
             error.find("no CUDA device") != std::string::npos,
         "a device that does not exist is refused: " + error);
}

}  // namespace
}  // namespace evolv::diffusion::cuda

int main(int argc, char** argv) {
  using namespace evolv::diffusion::cuda;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], "--device") == 0) g_device = std::atoi(argv[i + 1]);
  }
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  if (status != cudaSuccess) {
    std::printf("SKIPPED: no usable CUDA driver (%s)\n", cudaGetErrorString(status));
    return 77;
  }
  if (g_device < 0 || g_device >= count) {
    std::printf("SKIPPED: no CUDA device %d (%d present)\n", g_device, count);
    return 77;
  }
  cudaDeviceProp prop{};
  cudaGetDeviceProperties(&prop, g_device);
  std::printf("device %d: %s, compute capability %d.%d\n", g_device, prop.name, prop.major,
              prop.minor);
  return evolv::cuda_checks::RunChecks({
      {"MatchesHostBitForBit", MatchesHostBitForBit},
      {"MatchesHostAtTheExtremes", MatchesHostAtTheExtremes},
      {"MatchesHostAcrossPasses", MatchesHostAcrossPasses},
      {"ConcurrentCallsAgree", ConcurrentCallsAgree},
      {"RejectsWhatItCannotRun", RejectsWhatItCannotRun},
  });
}
