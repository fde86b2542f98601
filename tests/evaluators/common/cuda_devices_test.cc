#include "evaluators/common/cuda_devices.h"

#include <gtest/gtest.h>

#include <string>

namespace evolv {
namespace {

TEST(CudaDevicesTest, ParsesCpuAndCudaIndicesAndNamesTheFlagOtherwise) {
  EXPECT_EQ(*ParseDevice("cpu"), -1);
  EXPECT_EQ(*ParseDevice("cuda:0"), 0);
  EXPECT_EQ(*ParseDevice("cuda:1023"), kMaxCudaDeviceIndex);
  for (const char* bad : {"", "gpu", "CPU", "cuda", "cuda:", "cuda:-1", "cuda:+1", "cuda:1x",
                          "cuda:1024", "cuda:99999999999999999999", " cuda:0"}) {
    const absl::StatusOr<int> parsed = ParseDevice(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find("--device"), std::string::npos);
  }
}

// No machine has device 1023: the probe says why, in the words evolv-worker prints before it
// exits 2; a build without CUDA says that first.
TEST(CudaDevicesTest, AMissingDeviceIsAFailedPreconditionSayingWhy) {
  const absl::StatusOr<CudaDevice> device = ProbeCudaDevice(kMaxCudaDeviceIndex);
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().code(), absl::StatusCode::kFailedPrecondition);
  const std::string message(device.status().message());
  if (!BuildHasCuda()) {
    EXPECT_NE(message.find("this build has no CUDA support"), std::string::npos) << message;
  } else {
    EXPECT_TRUE(message.find("no usable CUDA driver") != std::string::npos ||
                message.find("no CUDA device 1023") != std::string::npos)
        << message;
  }
}

}  // namespace
}  // namespace evolv
