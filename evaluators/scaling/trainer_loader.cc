// trainer.h's functions, served by the libtorch plugin (trainer_backend.h) loaded on first use.
//
// Where the plugin is looked for, first found wins: $EVOLV_SCALING_TRAINER (a path), then
// libevolv_scaling_torch.so beside the running executable, then where the build put it
// (EVOLV_SCALING_TRAINER_PLUGIN, a compile-time path). A plugin that cannot be loaded, or whose
// table has another version, makes every call FAILED_PRECONDITION naming the paths tried.
#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <fstream>
#include <mutex>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "evaluators/scaling/trainer.h"
#include "evaluators/scaling/trainer_backend.h"

namespace evolv {
namespace {

constexpr char kPluginName[] = "libevolv_scaling_torch.so";

std::vector<std::string> CandidatePaths() {
  std::vector<std::string> paths;
  if (const char* env = std::getenv("EVOLV_SCALING_TRAINER"); env != nullptr && *env != '\0')
    paths.push_back(env);
  char exe[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) {
    std::string dir(exe, static_cast<size_t>(n));
    dir = dir.substr(0, dir.rfind('/') + 1);
    paths.push_back(dir + kPluginName);
  }
#ifdef EVOLV_SCALING_TRAINER_PLUGIN
  paths.push_back(EVOLV_SCALING_TRAINER_PLUGIN);
#endif
  return paths;
}

struct Loaded {
  const TrainerBackend* backend = nullptr;
  absl::Status status;
};

const Loaded& Plugin() {
  static const Loaded* loaded = [] {
    auto* result = new Loaded;
    std::vector<std::string> failures;
    for (const std::string& path : CandidatePaths()) {
      if (access(path.c_str(), F_OK) != 0) {
        failures.push_back(path + ": no such file");
        continue;
      }
      // Never closed: the process keeps torch once it has loaded it.
      void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (handle == nullptr) {
        failures.push_back(dlerror());
        continue;
      }
      using Entry = const TrainerBackend* (*)();
      auto entry = reinterpret_cast<Entry>(dlsym(handle, "evolv_scaling_trainer_backend"));
      if (entry == nullptr) {
        failures.push_back(path + ": no evolv_scaling_trainer_backend");
        continue;
      }
      const TrainerBackend* backend = entry();
      if (backend == nullptr || backend->version != kTrainerBackendVersion) {
        failures.push_back(absl::StrCat(path, ": backend version ",
                                        backend ? backend->version : -1, ", want ",
                                        kTrainerBackendVersion));
        continue;
      }
      result->backend = backend;
      return result;
    }
    result->status = absl::FailedPreconditionError(
        absl::StrCat("scaling: cannot load the libtorch trainer (", absl::StrJoin(failures, "; "),
                     "); set EVOLV_SCALING_TRAINER to the path of ", kPluginName));
    return result;
  }();
  return *loaded;
}

std::string CpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) != 0) continue;
    const size_t colon = line.find(':');
    if (colon == std::string::npos) break;
    const size_t start = line.find_first_not_of(" \t", colon + 1);
    return start == std::string::npos ? "" : line.substr(start);
  }
  return "unknown CPU";
}

}  // namespace

absl::StatusOr<ImageClassData> LoadImageClassData(const std::string& directory, int train_count,
                                                  int test_count) {
  const Loaded& plugin = Plugin();
  if (plugin.backend == nullptr) return plugin.status;
  return plugin.backend->load_image_class_data(directory, train_count, test_count);
}

absl::StatusOr<TrainResult> TrainAndTest(const NetworkSpec& net, const ImageClassData& data,
                                         const TrainSchedule& schedule, uint64_t seed) {
  const Loaded& plugin = Plugin();
  if (plugin.backend == nullptr) return plugin.status;
  return plugin.backend->train_and_test(net, data, schedule, seed);
}

std::string TimingDeviceName(TimingDevice device, int cuda_index) {
  // The plugin times on one thread (trainer.h); naming the CPU needs no torch.
  if (device == TimingDevice::kCpu) return absl::StrCat("cpu: ", CpuModel(), ", 1 thread");
  const Loaded& plugin = Plugin();
  return plugin.backend == nullptr ? "" : plugin.backend->cuda_device_name(cuda_index);
}

absl::StatusOr<Timing> TimeNetwork(const NetworkSpec& net, int batch_size, int warmup, int runs,
                                   TimingDevice device, int cuda_index) {
  const Loaded& plugin = Plugin();
  if (plugin.backend == nullptr) return plugin.status;
  return plugin.backend->time_network(net, batch_size, warmup, runs, device, cuda_index);
}

}  // namespace evolv
