// The one file of evolv compiled against torch (docs/adr/0015). Every entry point catches what
// torch throws and returns it as a Status.
#include "evaluators/scaling/trainer.h"

#include <malloc.h>
#include <torch/torch.h>
#ifdef EVOLV_TORCH_CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <memory>
#include <mutex>
#include <new>
#include <random>

#include "absl/strings/str_cat.h"
#include "evaluators/common/idx_images.h"
#include "evaluators/scaling/complexity.h"
#include "evaluators/scaling/trainer_backend.h"

namespace evolv {
namespace {

constexpr char kNetworkField[] = "scaling.network";
constexpr double kBnEps = 1e-5;
constexpr double kBnMomentum = 0.1;
constexpr int kFinalLossSteps = 10;
constexpr int kMaxTimingRuns = 1000;

// Once for the process (see trainer.h): torch's intra-op threads to 1, and glibc's malloc told
// to keep torch's large buffers mapped (mmap above 32 MiB only, trim above 1 GiB, 256 MiB of
// top pad) instead of unmapping and faulting them in again on every step: a third of the CPU
// time otherwise (docs/adr/0015-libtorch-for-scaling.md). A process that evaluates this domain
// keeps up to 1 GiB of freed heap.
void UseOneThread() {
  static std::once_flag once;
  std::call_once(once, [] {
    at::set_num_threads(1);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_TOP_PAD, 256 << 20);
  });
}

// Runs `body`, turning whatever torch throws into a Status.
template <typename T, typename Body>
absl::StatusOr<T> Guarded(Body body) {
  try {
    return body();
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("torch: ", e.what_without_backtrace()));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("torch: out of memory");
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("torch: ", e.what()));
  }
}

torch::nn::Conv2d Conv(int in, int out, int kernel, int stride, int groups = 1, bool bias = false) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel)
                               .stride(stride)
                               .padding((kernel - 1) / 2)
                               .groups(groups)
                               .bias(bias));
}

torch::nn::BatchNorm2d Bn(int channels) {
  return torch::nn::BatchNorm2d(
      torch::nn::BatchNorm2dOptions(channels).eps(kBnEps).momentum(kBnMomentum));
}

// pycls's SE: global average pool, 1x1 conv (bias) to `squeezed`, ReLU, 1x1 conv (bias) back,
// sigmoid, the input scaled by the result.
struct SqueezeExcitationImpl : torch::nn::Module {
  SqueezeExcitationImpl(int width, int squeezed)
      : reduce(register_module("f_ex_0", Conv(width, squeezed, 1, 1, 1, true))),
        expand(register_module("f_ex_2", Conv(squeezed, width, 1, 1, 1, true))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor s = torch::adaptive_avg_pool2d(x, {1, 1});
    s = torch::sigmoid(expand->forward(torch::relu(reduce->forward(s))));
    return x * s;
  }
  torch::nn::Conv2d reduce, expand;
};
TORCH_MODULE(SqueezeExcitation);

// A residual block: f(x) (basic: 3x3, BN, ReLU, 3x3, BN; bottleneck: 1x1, BN, ReLU, grouped 3x3,
// BN, ReLU, [SE], 1x1, BN), plus x or its projection, then ReLU.
struct ResBlockImpl : torch::nn::Module {
  ResBlockImpl(BlockKind kind, int w_in, int w_out, int stride, double bottleneck_ratio,
               int group_width, double se_ratio) {
    if (w_in != w_out || stride != 1) {
      proj = register_module("proj", Conv(w_in, w_out, 1, stride));
      proj_bn = register_module("bn", Bn(w_out));
    }
    if (kind == BlockKind::kResBasic) {
      Add(Conv(w_in, w_out, 3, stride), Bn(w_out), true);
      Add(Conv(w_out, w_out, 3, 1), Bn(w_out), false);
      return;
    }
    const int w_b = static_cast<int>(std::lround(w_out * bottleneck_ratio));
    const int groups = w_b / group_width;
    Add(Conv(w_in, w_b, 1, 1), Bn(w_b), true);
    Add(Conv(w_b, w_b, 3, stride, groups), Bn(w_b), true);
    if (se_ratio > 0) {
      const int squeezed = static_cast<int>(std::lround(w_in * se_ratio));
      se = register_module("se", SqueezeExcitation(w_b, std::max(1, squeezed)));
      se_after = static_cast<int>(convs.size());
    }
    Add(Conv(w_b, w_out, 1, 1), Bn(w_out), false);
  }

  void Add(torch::nn::Conv2d conv, torch::nn::BatchNorm2d bn, bool relu) {
    const std::string name(1, static_cast<char>('a' + convs.size()));
    convs.push_back(register_module(name, conv));
    bns.push_back(register_module(name + "_bn", bn));
    relus.push_back(relu);
  }

  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor f = x;
    for (size_t i = 0; i < convs.size(); ++i) {
      if (!se.is_empty() && static_cast<int>(i) == se_after) f = se->forward(f);
      f = bns[i]->forward(convs[i]->forward(f));
      if (relus[i]) f = torch::relu(f);
    }
    const torch::Tensor shortcut = proj.is_empty() ? x : proj_bn->forward(proj->forward(x));
    return torch::relu(shortcut + f);
  }

  std::vector<torch::nn::Conv2d> convs;
  std::vector<torch::nn::BatchNorm2d> bns;
  std::vector<bool> relus;
  torch::nn::Conv2d proj{nullptr};
  torch::nn::BatchNorm2d proj_bn{nullptr};
  SqueezeExcitation se{nullptr};
  int se_after = -1;
};
TORCH_MODULE(ResBlock);

// pycls's AnyNet: stem, stages, head.
struct AnyNetImpl : torch::nn::Module {
  explicit AnyNetImpl(const NetworkSpec& net) {
    switch (net.stem) {
      case StemKind::kResCifar:
        stem_conv = register_module("stem_conv", Conv(net.in_channels, net.stem_width, 3, 1));
        break;
      case StemKind::kResImageNet:
        stem_conv = register_module("stem_conv", Conv(net.in_channels, net.stem_width, 7, 2));
        stem_pool = true;
        break;
      case StemKind::kSimple:
        stem_conv = register_module("stem_conv", Conv(net.in_channels, net.stem_width, 3, 2));
        break;
    }
    stem_bn = register_module("stem_bn", Bn(net.stem_width));
    int w_in = net.stem_width;
    for (size_t s = 0; s < net.stages.size(); ++s) {
      const StageSpec& stage = net.stages[s];
      for (int b = 0; b < stage.depth; ++b) {
        blocks.push_back(
            register_module(absl::StrCat("s", s + 1, "_b", b + 1),
                            ResBlock(net.block, w_in, stage.width, b == 0 ? stage.stride : 1,
                                     stage.bottleneck_ratio, stage.group_width, net.se_ratio)));
        w_in = stage.width;
      }
    }
    fc = register_module("head_fc", torch::nn::Linear(w_in, net.num_classes));
  }

  torch::Tensor forward(torch::Tensor x) {
    x = torch::relu(stem_bn->forward(stem_conv->forward(x)));
    if (stem_pool) x = torch::max_pool2d(x, {3, 3}, {2, 2}, {1, 1});
    for (ResBlock& block : blocks) x = block->forward(x);
    x = torch::adaptive_avg_pool2d(x, {1, 1}).flatten(1);
    return fc->forward(x);
  }

  // pycls's init_weights, drawn from `generator`.
  void Initialize(at::Generator& generator) {
    torch::NoGradGuard no_grad;
    for (const auto& m : modules(/*include_self=*/false)) {
      if (auto* conv = m->as<torch::nn::Conv2d>()) {
        const auto& o = conv->options;
        const double fan_out = static_cast<double>((*o.kernel_size())[0]) * (*o.kernel_size())[1] *
                               o.out_channels() / o.groups();
        conv->weight.normal_(0.0, std::sqrt(2.0 / fan_out), generator);
        if (conv->bias.defined()) conv->bias.zero_();
      } else if (auto* bn = m->as<torch::nn::BatchNorm2d>()) {
        bn->weight.fill_(1.0);
        bn->bias.zero_();
      } else if (auto* linear = m->as<torch::nn::Linear>()) {
        linear->weight.normal_(0.0, 0.01, generator);
        linear->bias.zero_();
      }
    }
  }

  torch::nn::Conv2d stem_conv{nullptr};
  torch::nn::BatchNorm2d stem_bn{nullptr};
  bool stem_pool = false;
  std::vector<ResBlock> blocks;
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(AnyNet);

AnyNet BuildNetwork(const NetworkSpec& net, uint64_t seed) {
  AnyNet model(net);
  at::Generator generator = at::detail::createCPUGenerator(seed);
  model->Initialize(generator);
  return model;
}

absl::StatusOr<torch::Device> DeviceOf(TimingDevice device, int cuda_index) {
  if (device == TimingDevice::kCpu) return torch::Device(torch::kCPU);
  if (!torch::cuda::is_available()) {
    return absl::FailedPreconditionError(
        "scaling.timing.device: \"cuda\" asked, but this libtorch has no CUDA or sees no GPU "
        "(Debian's libtorch is CPU-only; a GPU worker links CUDA PyTorch's libtorch, see "
        "docs/adr/0015-libtorch-for-scaling.md)");
  }
  if (cuda_index < 0 || static_cast<size_t>(cuda_index) >= torch::cuda::device_count()) {
    return absl::FailedPreconditionError(absl::StrCat("scaling.timing.device: libtorch sees ",
                                                      torch::cuda::device_count(),
                                                      " CUDA devices, not device ", cuda_index));
  }
  return torch::Device(torch::kCUDA, static_cast<torch::DeviceIndex>(cuda_index));
}

// `pixels` (n images of side x side) as an n x 1 x side x side tensor resized to `resolution`.
torch::Tensor ImageTensor(const std::vector<float>& pixels, int n, int side, int resolution) {
  torch::Tensor x =
      torch::from_blob(const_cast<float*>(pixels.data()), {n, 1, side, side}, torch::kFloat32)
          .clone();
  if (resolution == side) return x;
  namespace F = torch::nn::functional;
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .size(std::vector<int64_t>{resolution, resolution})
                               .mode(torch::kBilinear)
                               .align_corners(false));
}

torch::Tensor LabelTensor(const std::vector<uint8_t>& labels) {
  return torch::from_blob(const_cast<uint8_t*>(labels.data()),
                          {static_cast<int64_t>(labels.size())}, torch::kUInt8)
      .to(torch::kInt64);
}

absl::Status ScheduleError(const std::string& field, const std::string& reason) {
  return absl::InvalidArgumentError(absl::StrCat("scaling.training.", field, ": ", reason));
}

absl::Status CheckSchedule(const TrainSchedule& s) {
  if (s.epochs < 1 || s.epochs > kMaxTrainEpochs)
    return ScheduleError("epochs",
                         absl::StrCat(s.epochs, " is outside [1, ", kMaxTrainEpochs, "]"));
  if (s.batch_size < 1 || s.batch_size > kMaxTrainBatch)
    return ScheduleError("batch_size",
                         absl::StrCat(s.batch_size, " is outside [1, ", kMaxTrainBatch, "]"));
  if (!std::isfinite(s.learning_rate) || s.learning_rate <= 0)
    return ScheduleError("learning_rate", "must be finite and positive");
  if (!std::isfinite(s.momentum) || s.momentum < 0 || s.momentum >= 1)
    return ScheduleError("momentum", "must be in [0, 1)");
  if (!std::isfinite(s.weight_decay) || s.weight_decay < 0)
    return ScheduleError("weight_decay", "must be finite and >= 0");
  return absl::OkStatus();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

// What the plugin exports (trainer_backend.h); trainer.h's functions reach them through
// trainer_loader.cc.
namespace backend {

absl::StatusOr<ImageClassData> LoadImageClassData(const std::string& directory, int train_count,
                                                  int test_count) {
  if (train_count < 1 || train_count > kMaxImageClassFileImages) {
    return absl::InvalidArgumentError(absl::StrCat("scaling.data.train_images: ", train_count,
                                                   " is outside [1, ", kMaxImageClassFileImages,
                                                   "]"));
  }
  if (test_count < 1 || test_count > kMaxImageClassFileImages) {
    return absl::InvalidArgumentError(absl::StrCat("scaling.data.test_images: ", test_count,
                                                   " is outside [1, ", kMaxImageClassFileImages,
                                                   "]"));
  }
  auto files = ReadIdxDataset(directory, kMaxImageClassFileImages, "scaling.data.directory");
  if (!files.ok()) return files.status();
  const IdxImages& train = files->train_images;
  if (train.rows != train.cols) {
    return absl::InvalidArgumentError(absl::StrCat("scaling.data.directory: the images are ",
                                                   train.rows, " x ", train.cols,
                                                   "; only square images are supported"));
  }
  if (train_count > train.count) {
    return absl::InvalidArgumentError(absl::StrCat("scaling.data.train_images: ", train_count,
                                                   " exceeds the ", train.count,
                                                   " training images"));
  }
  if (test_count > files->test_images.count) {
    return absl::InvalidArgumentError(absl::StrCat("scaling.data.test_images: ", test_count,
                                                   " exceeds the ", files->test_images.count,
                                                   " test images"));
  }
  ImageClassData data;
  data.side = train.rows;
  const size_t pixels = static_cast<size_t>(data.side) * data.side;
  data.train_labels.assign(files->train_labels.labels.begin(),
                           files->train_labels.labels.begin() + train_count);
  data.test_labels.assign(files->test_labels.labels.begin(),
                          files->test_labels.labels.begin() + test_count);
  for (uint8_t label : data.train_labels) data.num_classes = std::max(data.num_classes, label + 1);
  // The training pixels' moments, in double over the used images.
  double sum = 0, sum_sq = 0;
  const size_t train_pixels = pixels * static_cast<size_t>(train_count);
  for (size_t i = 0; i < train_pixels; ++i) {
    const double v = train.pixels[i] / 255.0;
    sum += v;
    sum_sq += v * v;
  }
  const double mean = sum / static_cast<double>(train_pixels);
  const double variance = std::max(0.0, sum_sq / static_cast<double>(train_pixels) - mean * mean);
  data.mean = static_cast<float>(mean);
  data.stddev = static_cast<float>(variance > 1e-12 ? std::sqrt(variance) : 1.0);
  auto standardize = [&](const std::vector<uint8_t>& bytes, size_t count) {
    std::vector<float> out(count);
    for (size_t i = 0; i < count; ++i) out[i] = (bytes[i] / 255.0f - data.mean) / data.stddev;
    return out;
  };
  data.train_pixels = standardize(train.pixels, train_pixels);
  data.test_pixels =
      standardize(files->test_images.pixels, pixels * static_cast<size_t>(test_count));
  return data;
}

absl::StatusOr<TrainResult> TrainAndTest(const NetworkSpec& net, const ImageClassData& data,
                                         const TrainSchedule& schedule, uint64_t seed) {
  if (absl::Status s = ValidateNetwork(net, kNetworkField); !s.ok()) return s;
  if (absl::Status s = CheckSchedule(schedule); !s.ok()) return s;
  if (net.in_channels != 1) {
    return absl::InvalidArgumentError(absl::StrCat(kNetworkField, ".in_channels: ", net.in_channels,
                                                   "; the images have one channel"));
  }
  if (net.num_classes < data.num_classes) {
    return absl::InvalidArgumentError(absl::StrCat(kNetworkField, ".num_classes: ", net.num_classes,
                                                   " is below the data's ", data.num_classes));
  }
  const int n = data.train_count();
  if (n < 1 || data.test_count() < 1 || data.side < 1 ||
      data.train_pixels.size() != static_cast<size_t>(n) * data.side * data.side ||
      data.test_pixels.size() != static_cast<size_t>(data.test_count()) * data.side * data.side) {
    return absl::InvalidArgumentError("scaling.data: inconsistent image data");
  }
  const int64_t r = net.resolution;
  if ((int64_t{n} + data.test_count()) * r * r > kMaxResizedFloats) {
    return absl::InvalidArgumentError(
        absl::StrCat(kNetworkField, ".resolution: ", r, " makes ", n + data.test_count(),
                     " resized images larger than the limit of ", kMaxResizedFloats, " floats"));
  }
  UseOneThread();
  return Guarded<TrainResult>([&]() -> TrainResult {
    const torch::Tensor train_x = ImageTensor(data.train_pixels, n, data.side, net.resolution);
    const torch::Tensor train_y = LabelTensor(data.train_labels);
    AnyNet model = BuildNetwork(net, seed);
    torch::optim::SGD optimizer(model->parameters(),
                                torch::optim::SGDOptions(schedule.learning_rate)
                                    .momentum(schedule.momentum)
                                    .weight_decay(schedule.weight_decay));
    const int batch = std::min(schedule.batch_size, n);
    const int64_t per_epoch = n / batch;
    const int64_t steps = per_epoch * schedule.epochs;
    // The shuffle's own generator ("shuffle"): std::mt19937_64's output is fixed by the standard,
    // and the draw below (modulo, bias below 2^-40 here) uses nothing implementation-defined.
    std::mt19937_64 shuffle(seed ^ 0x73687566666c65ULL);
    std::vector<int64_t> order(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
    TrainResult result;
    std::vector<double> last_losses;
    model->train();
    int64_t t = 0;
    for (int epoch = 0; epoch < schedule.epochs; ++epoch) {
      for (int i = n - 1; i > 0; --i) {
        std::swap(order[static_cast<size_t>(i)],
                  order[static_cast<size_t>(shuffle() % (static_cast<uint64_t>(i) + 1))]);
      }
      const torch::Tensor permutation = torch::from_blob(order.data(), {n}, torch::kInt64);
      for (int64_t b = 0; b < per_epoch; ++b, ++t) {
        const double lr =
            schedule.learning_rate * 0.5 * (1.0 + std::cos(M_PI * static_cast<double>(t) / steps));
        for (auto& group : optimizer.param_groups()) {
          static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
        }
        const torch::Tensor index = permutation.slice(0, b * batch, (b + 1) * batch);
        const torch::Tensor x = train_x.index_select(0, index);
        const torch::Tensor y = train_y.index_select(0, index);
        optimizer.zero_grad();
        const torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(x), y);
        loss.backward();
        optimizer.step();
        const double value = loss.item<double>();
        if (t == 0) result.initial_loss = value;
        if (steps - t <= kFinalLossSteps) last_losses.push_back(value);
      }
    }
    result.steps = steps;
    double sum = 0;
    for (double v : last_losses) sum += v;
    result.final_loss = sum / static_cast<double>(last_losses.size());

    // Test error with BN's running statistics.
    torch::NoGradGuard no_grad;
    model->eval();
    const torch::Tensor test_x =
        ImageTensor(data.test_pixels, data.test_count(), data.side, net.resolution);
    const torch::Tensor test_y = LabelTensor(data.test_labels);
    int64_t wrong = 0;
    for (int64_t first = 0; first < data.test_count(); first += kTestBatch) {
      const int64_t last = std::min<int64_t>(data.test_count(), first + kTestBatch);
      const torch::Tensor predicted = model->forward(test_x.slice(0, first, last)).argmax(1);
      wrong += predicted.ne(test_y.slice(0, first, last)).sum().item<int64_t>();
    }
    result.test_error = static_cast<double>(wrong) / data.test_count();
    return result;
  });
}

std::string CudaDeviceName(int index) {
#ifdef EVOLV_TORCH_CUDA
  try {
    if (torch::cuda::is_available() && index >= 0 &&
        static_cast<size_t>(index) < torch::cuda::device_count()) {
      return at::cuda::getDeviceProperties(index)->name;
    }
  } catch (const std::exception&) {
  }
#else
  (void)index;
#endif
  return "";
}

absl::StatusOr<Timing> TimeNetwork(const NetworkSpec& net, int batch_size, int warmup, int runs,
                                   TimingDevice device, int cuda_index) {
  if (absl::Status s = ValidateNetwork(net, kNetworkField); !s.ok()) return s;
  if (batch_size < 1 || batch_size > kMaxTrainBatch) {
    return absl::InvalidArgumentError(absl::StrCat("scaling.timing.batch: ", batch_size,
                                                   " is outside [1, ", kMaxTrainBatch, "]"));
  }
  if (warmup < 0 || warmup > kMaxTimingRuns) {
    return absl::InvalidArgumentError(
        absl::StrCat("scaling.timing.warmup: ", warmup, " is outside [0, ", kMaxTimingRuns, "]"));
  }
  if (runs < 1 || runs > kMaxTimingRuns) {
    return absl::InvalidArgumentError(
        absl::StrCat("scaling.timing.runs: ", runs, " is outside [1, ", kMaxTimingRuns, "]"));
  }
  const int64_t r = net.resolution;
  if (int64_t{batch_size} * net.in_channels * r * r > kMaxResizedFloats) {
    return absl::InvalidArgumentError(
        absl::StrCat("scaling.timing.batch: ", batch_size, " images of ", r, " x ", r,
                     " exceed the limit of ", kMaxResizedFloats, " floats"));
  }
  UseOneThread();
  return Guarded<Timing>([&]() -> absl::StatusOr<Timing> {
    absl::StatusOr<torch::Device> where = DeviceOf(device, cuda_index);
    if (!where.ok()) return where.status();
    AnyNet model = BuildNetwork(net, 1);
    model->to(*where);
    at::Generator generator = at::detail::createCPUGenerator(2);
    const torch::Tensor x = torch::randn({batch_size, net.in_channels, r, r}, generator).to(*where);
    const torch::Tensor y = torch::randint(net.num_classes, {batch_size}, generator,
                                           torch::TensorOptions().dtype(torch::kInt64))
                                .to(*where);
    auto sync = [&] {
      if (where->is_cuda()) torch::cuda::synchronize(where->index());
    };
    // Milliseconds of each of `runs` calls of `step` after `warmup` untimed ones.
    auto time = [&](auto step) {
      for (int i = 0; i < warmup; ++i) step();
      sync();
      std::vector<double> ms;
      for (int i = 0; i < runs; ++i) {
        const auto start = std::chrono::steady_clock::now();
        step();
        sync();
        ms.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count());
      }
      return ms;
    };
    Timing timing;
    {
      torch::NoGradGuard no_grad;
      model->eval();
      const std::vector<double> ms = time([&] { model->forward(x); });
      timing.inference_ms = Median(ms);
      timing.inference_ms_worst = *std::max_element(ms.begin(), ms.end());
    }
    model->train();
    torch::optim::SGD optimizer(model->parameters(),
                                torch::optim::SGDOptions(0.01).momentum(0.9).weight_decay(5e-4));
    const std::vector<double> ms = time([&] {
      optimizer.zero_grad();
      torch::nn::functional::cross_entropy(model->forward(x), y).backward();
      optimizer.step();
    });
    timing.train_step_ms = Median(ms);
    timing.train_step_ms_worst = *std::max_element(ms.begin(), ms.end());
    return timing;
  });
}

}  // namespace backend
}  // namespace evolv

extern "C" __attribute__((visibility("default"))) const evolv::TrainerBackend*
evolv_scaling_trainer_backend() {
  static const evolv::TrainerBackend backend{
      evolv::kTrainerBackendVersion, evolv::backend::LoadImageClassData,
      evolv::backend::TrainAndTest, evolv::backend::CudaDeviceName, evolv::backend::TimeNetwork};
  return &backend;
}
