// The seam between trainer.h and the libtorch plugin that implements it (internal to the scaling
// domain). trainer.cc is built as a shared object (libevolv_scaling_torch.so) exporting one C
// function, `evolv_scaling_trainer_backend`, which returns this table; trainer_loader.cc loads the
// plugin on the first call that needs it, so that processes which never train or time a network
// (the CLI, evolvd with other domains' jobs) neither map libtorch nor run its static
// initializers (about 0.7 s and 150 MB of a process's start). See docs/adr/0015.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "evaluators/scaling/trainer.h"

namespace evolv {

// Changed whenever the table or any type it passes changes layout.
inline constexpr int kTrainerBackendVersion = 2;

struct TrainerBackend {
  int version;
  absl::StatusOr<ImageClassData> (*load_image_class_data)(const std::string& directory,
                                                          int train_count, int test_count);
  absl::StatusOr<TrainResult> (*train_and_test)(const NetworkSpec& net,
                                                const ImageClassData& data,
                                                const TrainSchedule& schedule, uint64_t seed);
  // CUDA device `index`'s name, or "" when this libtorch has no CUDA or no such device.
  std::string (*cuda_device_name)(int index);
  absl::StatusOr<Timing> (*time_network)(const NetworkSpec& net, int batch_size, int warmup,
                                         int runs, TimingDevice device, int cuda_index);
};

}  // namespace evolv
