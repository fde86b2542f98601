#include "evaluators/scaling/scaling_problem.h"

#include <xxhash.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <cstring>
#include <fstream>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "evaluators/common/input_file.h"
#include "search/pareto.h"

namespace evolv {
namespace {

constexpr const char* kDefaultDataDirectory = "/usr/share/datasets/fashion-mnist";
constexpr int kDefaultTrainImages = 10000;
constexpr int kDefaultTestImages = 10000;
// The data files' names; each may be gzipped (".gz").
constexpr const char* kDataFiles[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                      "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
// A data file read for the key's digest is at most this large.
constexpr uint64_t kMaxDataFileBytes = int64_t{1} << 30;
// CompareHit: two short training runs of one network differ by their seeds' noise.
constexpr double kErrorTolerance = 0.05;

absl::Status FieldError(const std::string& field, const std::string& reason) {
  return absl::InvalidArgumentError(absl::StrCat("scaling.", field, ": ", reason));
}

v1::Evaluation Fail(v1::EvaluationStatus status, const std::string& error) {
  return UnscoredEvaluation(status, error, 2);
}

std::optional<v1::ScalingStrategy> StrategyOf(const v1::Candidate& candidate) {
  v1::ScalingStrategy strategy;
  if (!UnpackCandidate(candidate, &strategy)) return std::nullopt;
  return strategy;
}

ScalingWeights WeightsOf(const v1::ScalingStrategy& s) {
  ScalingWeights w;
  w.depth = s.depth_weight();
  w.width = s.width_weight();
  w.resolution = s.resolution_weight();
  w.group = s.group_weight();
  return w;
}

// OK, or INVALID_ARGUMENT naming the field when the strategy's weights or flops factor cannot
// scale a network (ValidateScaling, fields as in the proto: "scaling.strategy.depth_weight: ...").
absl::Status StrategyStatus(const v1::ScalingStrategy& s) {
  return ValidateScaling(WeightsOf(s), "scaling.strategy", s.flops_factor(),
                         "scaling.strategy.flops_factor");
}

NetworkSpec NetworkFromProto(const v1::ScalingNetwork& proto, int in_channels, int classes,
                             int data_side) {
  NetworkSpec net;
  net.in_channels = in_channels;
  net.num_classes = classes;
  net.resolution = proto.resolution() ? static_cast<int>(proto.resolution()) : data_side;
  switch (proto.stem()) {
    case v1::ScalingNetwork::RES_IMAGENET: net.stem = StemKind::kResImageNet; break;
    case v1::ScalingNetwork::SIMPLE: net.stem = StemKind::kSimple; break;
    default: net.stem = StemKind::kResCifar; break;
  }
  net.stem_width = static_cast<int>(std::min<uint32_t>(proto.stem_width(), 1u << 20));
  net.block = proto.block() == v1::ScalingNetwork::RES_BASIC ? BlockKind::kResBasic
                                                              : BlockKind::kResBottleneck;
  net.se_ratio = proto.se_ratio();
  for (const v1::ScalingStage& s : proto.stages()) {
    StageSpec stage;
    stage.depth = static_cast<int>(std::min<uint32_t>(s.depth(), 1u << 20));
    stage.width = static_cast<int>(std::min<uint32_t>(s.width(), 1u << 20));
    stage.stride = s.stride() ? static_cast<int>(std::min<uint32_t>(s.stride(), 1u << 20)) : 1;
    stage.bottleneck_ratio = s.bottleneck_ratio() != 0 ? s.bottleneck_ratio() : 1.0;
    const int inner = static_cast<int>(std::lround(stage.width * stage.bottleneck_ratio));
    stage.group_width =
        s.group_width() ? static_cast<int>(std::min<uint32_t>(s.group_width(), 1u << 20)) : inner;
    net.stages.push_back(stage);
  }
  return net;
}

v1::ScalingNetwork NetworkToProto(const NetworkSpec& net) {
  v1::ScalingNetwork proto;
  switch (net.stem) {
    case StemKind::kResImageNet: proto.set_stem(v1::ScalingNetwork::RES_IMAGENET); break;
    case StemKind::kSimple: proto.set_stem(v1::ScalingNetwork::SIMPLE); break;
    default: proto.set_stem(v1::ScalingNetwork::RES_CIFAR); break;
  }
  proto.set_stem_width(net.stem_width);
  proto.set_block(net.block == BlockKind::kResBasic ? v1::ScalingNetwork::RES_BASIC
                                                    : v1::ScalingNetwork::RES_BOTTLENECK);
  for (const StageSpec& s : net.stages) {
    v1::ScalingStage* stage = proto.add_stages();
    stage->set_depth(s.depth);
    stage->set_width(s.width);
    stage->set_stride(s.stride);
    stage->set_bottleneck_ratio(s.bottleneck_ratio);
    stage->set_group_width(s.group_width);
  }
  proto.set_resolution(net.resolution);
  proto.set_se_ratio(net.se_ratio);
  return proto;
}

// Every field of the network that changes what it computes, in a fixed text form.
std::string NetworkKey(const NetworkSpec& net) {
  std::string key = absl::StrFormat(
      "in %d classes %d res %d stem %d/%d block %d se %.17g", net.in_channels, net.num_classes,
      net.resolution, static_cast<int>(net.stem), net.stem_width, static_cast<int>(net.block),
      net.se_ratio);
  for (const StageSpec& s : net.stages) {
    absl::StrAppendFormat(&key, " [%d %d %d %.17g %d]", s.depth, s.width, s.stride,
                          s.bottleneck_ratio, s.group_width);
  }
  return key;
}

// A hex xxh3-128 of the content of the data files in `directory` (each plain or ".gz"), read in
// chunks (a process start builds the registry's example, so this runs often; it keeps no copy).
absl::StatusOr<std::string> DataDigest(const std::string& directory) {
  XXH3_state_t* state = XXH3_createState();
  XXH3_128bits_reset(state);
  absl::Status status;
  std::vector<char> chunk(1 << 20);
  for (const char* name : kDataFiles) {
    const std::string plain = absl::StrCat(directory, "/", name);
    std::string path = plain;
    // InputFile refuses what is not a regular file (a FIFO, a device) before any read.
    absl::StatusOr<std::unique_ptr<InputFile>> file = InputFile::Open(path);
    if (!file.ok()) file = InputFile::Open(path = plain + ".gz");
    if (file.ok() && (*file)->size() > kMaxDataFileBytes) {
      file = absl::InvalidArgumentError(
          absl::StrCat((*file)->size(), " bytes, above the limit ", kMaxDataFileBytes));
    }
    std::ifstream in;
    if (file.ok()) in.open(path, std::ios::binary);
    if (!file.ok() || !in) {
      status = FieldError("data.directory",
                          absl::StrCat("cannot read ", plain, " (or .gz): ",
                                       file.ok() ? "open failed" : file.status().message()));
      break;
    }
    XXH3_128bits_update(state, name, std::strlen(name));
    uint64_t left = (*file)->size();  // the size it had when checked: no more is read
    while (left > 0 && in) {
      in.read(chunk.data(), static_cast<std::streamsize>(std::min<uint64_t>(left, chunk.size())));
      const std::streamsize got = in.gcount();
      if (got <= 0) break;
      XXH3_128bits_update(state, chunk.data(), static_cast<size_t>(got));
      left -= static_cast<uint64_t>(got);
    }
  }
  const XXH128_hash_t hash = XXH3_128bits_digest(state);
  XXH3_freeState(state);
  if (!status.ok()) return status;
  return absl::StrFormat("%016x%016x", hash.high64, hash.low64);
}

double Metric(const v1::Evaluation& e, const std::string& name) {
  auto it = e.metrics().find(name);
  return it == e.metrics().end() ? std::numeric_limits<double>::quiet_NaN() : it->second;
}

std::string FactorText(double s) { return absl::StrFormat("%g", s); }

}  // namespace

double PearsonCorrelation(const std::vector<double>& x, const std::vector<double>& y) {
  const size_t n = x.size();
  if (n < 3) return std::numeric_limits<double>::quiet_NaN();
  double mx = 0, my = 0;
  for (size_t i = 0; i < n; ++i) mx += x[i], my += y[i];
  mx /= n;
  my /= n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < n; ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  if (sxx <= 0 || syy <= 0) return std::numeric_limits<double>::quiet_NaN();
  return sxy / std::sqrt(sxx * syy);
}

const std::vector<std::string>& ScalingStrategyNames() {
  static const std::vector<std::string> names = {"w", "d", "r", "dw", "dwr", "dWr"};
  return names;
}

v1::ScalingSpec ScalingExampleSpec() {
  v1::ScalingSpec spec;
  spec.add_flops_factors(2);
  spec.add_flops_factors(4);
  spec.add_flops_factors(8);
  spec.mutable_data()->set_train_images(10000);
  spec.mutable_data()->set_test_images(2000);
  spec.mutable_training()->set_epochs(1);
  return spec;
}

v1::Candidate ScalingCandidate(const ScalingWeights& weights, double s, const std::string& name) {
  v1::ScalingStrategy strategy;
  strategy.set_depth_weight(weights.depth);
  strategy.set_width_weight(weights.width);
  strategy.set_resolution_weight(weights.resolution);
  strategy.set_group_weight(weights.group);
  strategy.set_flops_factor(s);
  strategy.set_name(name);
  return PackCandidate(strategy);
}

absl::StatusOr<std::unique_ptr<Problem>> CreateScalingProblem(const v1::ScalingSpec& in) {
  std::unique_ptr<ScalingProblem> p(new ScalingProblem);
  v1::ScalingSpec spec = in;

  // Data.
  v1::ScalingData* data = spec.mutable_data();
  if (data->directory().empty()) data->set_directory(kDefaultDataDirectory);
  if (data->train_images() == 0) data->set_train_images(kDefaultTrainImages);
  if (data->test_images() == 0) data->set_test_images(kDefaultTestImages);
  if (data->train_images() < 100 || data->train_images() > kMaxScalingTrainImages)
    return FieldError("data.train_images",
                      absl::StrCat(data->train_images(), " is outside [100, ",
                                   kMaxScalingTrainImages, "]"));
  if (data->test_images() < 100 || data->test_images() > kMaxScalingTestImages)
    return FieldError("data.test_images", absl::StrCat(data->test_images(), " is outside [100, ",
                                                       kMaxScalingTestImages, "]"));

  // Training schedule.
  v1::ScalingTraining* training = spec.mutable_training();
  if (training->epochs() == 0) training->set_epochs(1);
  if (training->batch_size() == 0) training->set_batch_size(128);
  if (training->learning_rate() == 0) training->set_learning_rate(0.1);
  if (training->momentum() == 0) training->set_momentum(0.9);
  if (training->weight_decay() == 0) training->set_weight_decay(5e-4);
  if (training->epochs() > kMaxScalingEpochs)
    return FieldError("training.epochs",
                      absl::StrCat(training->epochs(), " is above the limit ", kMaxScalingEpochs));
  if (training->batch_size() > kMaxScalingBatch)
    return FieldError("training.batch_size", absl::StrCat(training->batch_size(),
                                                          " is above the limit ", kMaxScalingBatch));
  if (!std::isfinite(training->learning_rate()) || training->learning_rate() < 0 ||
      training->learning_rate() > 10)
    return FieldError("training.learning_rate", "must be in (0, 10]");
  if (!std::isfinite(training->momentum()) || training->momentum() < 0 ||
      training->momentum() >= 1)
    return FieldError("training.momentum", "must be in [0, 1)");
  if (!std::isfinite(training->weight_decay()) || training->weight_decay() < 0 ||
      training->weight_decay() > 1)
    return FieldError("training.weight_decay", "must be in [0, 1]");

  // Timing.
  v1::ScalingTiming* timing = spec.mutable_timing();
  if (timing->batch() == 0) timing->set_batch(64);
  if (timing->warmup() == 0) timing->set_warmup(2);
  if (timing->runs() == 0) timing->set_runs(5);
  if (timing->batch() > kMaxScalingBatch)
    return FieldError("timing.batch",
                      absl::StrCat(timing->batch(), " is above the limit ", kMaxScalingBatch));
  if (timing->warmup() > kMaxScalingTimingRuns)
    return FieldError("timing.warmup", absl::StrCat(timing->warmup(), " is above the limit ",
                                                    kMaxScalingTimingRuns));
  if (timing->runs() > kMaxScalingTimingRuns)
    return FieldError("timing.runs",
                      absl::StrCat(timing->runs(), " is above the limit ", kMaxScalingTimingRuns));
  if (timing->device().empty()) timing->set_device("cpu");
  if (timing->device() == "cpu") {
    if (!timing->device_name().empty())
      return FieldError("timing.device_name", "only for the device \"cuda\"");
    p->device_ = TimingDevice::kCpu;
  } else if (timing->device() == "cuda") {
    if (timing->device_name().empty() || timing->device_name().size() > 256)
      return FieldError("timing.device_name",
                        "required for \"cuda\": the GPU model the timings are for (at most 256 "
                        "bytes)");
    p->device_ = TimingDevice::kCuda;
  } else {
    return FieldError("timing.device", absl::StrCat("\"", timing->device(),
                                                    "\" is not \"cpu\" or \"cuda\""));
  }
  p->device_name_ = p->device_ == TimingDevice::kCpu
                        ? TimingDeviceName(TimingDevice::kCpu)
                        : absl::StrCat("cuda: ", timing->device_name());

  if (spec.objective() == v1::ScalingSpec::OBJECTIVE_UNSPECIFIED)
    spec.set_objective(v1::ScalingSpec::RUNTIME);
  if (!v1::ScalingSpec::Objective_IsValid(spec.objective()))
    return FieldError("objective", absl::StrCat(static_cast<int>(spec.objective()),
                                                " is not RUNTIME, ACTIVATIONS or TRAINING_TIME"));

  // Flops factors.
  if (spec.flops_factors().empty()) {
    for (double s : {2.0, 4.0, 8.0}) spec.add_flops_factors(s);
  }
  if (spec.flops_factors_size() > kMaxScalingFactors)
    return FieldError("flops_factors", absl::StrCat(spec.flops_factors_size(),
                                                    " factors, above the limit ",
                                                    kMaxScalingFactors));
  for (int i = 0; i < spec.flops_factors_size(); ++i) {
    const double s = spec.flops_factors(i);
    if (!std::isfinite(s) || s <= 1 || s > kMaxFlopsFactor)
      return FieldError(absl::StrCat("flops_factors[", i, "]"),
                        absl::StrCat(s, " is outside (1, ", kMaxFlopsFactor, "]"));
    for (int j = 0; j < i; ++j) {
      if (spec.flops_factors(j) == s)
        return FieldError(absl::StrCat("flops_factors[", i, "]"),
                          absl::StrCat(s, " is listed twice"));
    }
    p->factors_.push_back(s);
  }

  // The base network (Fashion-MNIST: one channel, ten classes, 28 x 28).
  if (!spec.has_base()) *spec.mutable_base() = NetworkToProto(DefaultFashionMnistBase());
  if (spec.base().stages().empty()) return FieldError("base.stages", "the network has no stage");
  if (spec.base().stages_size() > kMaxNetworkStages)
    return FieldError("base.stages", absl::StrCat(spec.base().stages_size(),
                                                  " stages, above the limit ", kMaxNetworkStages));
  p->base_ = NetworkFromProto(spec.base(), 1, 10, 28);
  if (absl::Status status = ValidateNetwork(p->base_, "scaling.base"); !status.ok()) return status;
  *spec.mutable_base() = NetworkToProto(p->base_);
  p->base_complexity_ = CountComplexity(p->base_);
  if (p->base_complexity_.flops > kMaxScaledFlops)
    return FieldError("base", absl::StrCat(p->base_complexity_.flops,
                                           " multiply-adds per image, above the limit ",
                                           kMaxScaledFlops));

  p->schedule_.epochs = static_cast<int>(training->epochs());
  p->schedule_.batch_size = static_cast<int>(training->batch_size());
  p->schedule_.learning_rate = training->learning_rate();
  p->schedule_.momentum = training->momentum();
  p->schedule_.weight_decay = training->weight_decay();

  absl::StatusOr<std::string> digest = DataDigest(data->directory());
  if (!digest.ok() && in.data().directory().empty()) {
    // The spec is fine; this machine lacks the default data.
    return absl::FailedPreconditionError(absl::StrCat(
        digest.status().message(), " (install Debian's dataset-fashion-mnist, or name a "
        "directory of idx files in scaling.data.directory)"));
  }
  if (!digest.ok()) return digest.status();

  // The key: everything that changes an evaluation, the data by content, the device by model.
  p->canonical_ = absl::StrFormat(
      "scaling base {%s} data %s train %d test %d epochs %d batch %d lr %.17g momentum %.17g "
      "wd %.17g timing %d/%d/%d device {%s} objective %d",
      NetworkKey(p->base_), *digest, data->train_images(), data->test_images(),
      training->epochs(), training->batch_size(), training->learning_rate(),
      training->momentum(), training->weight_decay(), timing->batch(), timing->warmup(),
      timing->runs(), p->device_name_, static_cast<int>(spec.objective()));
  p->spec_ = std::move(spec);
  return std::unique_ptr<Problem>(std::move(p));
}

std::shared_mutex& ScalingProblem::TimingLock() {
  static std::shared_mutex lock;
  return lock;
}

const absl::StatusOr<ImageClassData>& ScalingProblem::Data() const {
  std::call_once(data_once_, [this] {
    data_ = std::make_unique<absl::StatusOr<ImageClassData>>(
        LoadImageClassData(spec_.data().directory(), static_cast<int>(spec_.data().train_images()),
                           static_cast<int>(spec_.data().test_images())));
  });
  return *data_;
}

std::string ScalingProblem::SecondObjectiveName() const {
  switch (spec_.objective()) {
    case v1::ScalingSpec::ACTIVATIONS: return "activations";
    case v1::ScalingSpec::TRAINING_TIME: return "train_step_ms";
    default: return "runtime_ms";
  }
}

double ScalingProblem::SecondObjective(const v1::Evaluation& e) const {
  return e.objectives_size() > 1 ? e.objectives(1) : std::numeric_limits<double>::infinity();
}

std::vector<std::string> ScalingProblem::ObjectiveNames() const {
  return {"error", SecondObjectiveName()};
}

std::vector<v1::ObjectiveDisplay> ScalingProblem::ObjectiveDisplays() const {
  std::vector<v1::ObjectiveDisplay> displays(2);
  displays[0].set_name("error");
  displays[0].set_label("test error");
  displays[1].set_name(SecondObjectiveName());
  switch (spec_.objective()) {
    case v1::ScalingSpec::ACTIVATIONS:
      displays[1].set_label("activations");
      break;
    case v1::ScalingSpec::TRAINING_TIME:
      displays[1].set_label("training step");
      displays[1].set_unit("ms");
      break;
    default:
      displays[1].set_label("inference");
      displays[1].set_unit("ms");
      break;
  }
  return displays;
}

v1::Candidate ScalingProblem::Random(Rng& rng) const {
  // Dirichlet(1, 1, 1): normalized exponential draws.
  double w[3];
  for (double& x : w) x = -std::log(1.0 - rng.Uniform());
  const double sum = w[0] + w[1] + w[2];
  const double s = factors_[rng.Below(factors_.size())];
  ScalingWeights weights;
  weights.depth = w[0] / sum;
  weights.width = w[1] / sum;
  weights.resolution = w[2] / sum;
  // Group widths grow with the width (as in fast compound scaling) or stay (as in the others).
  weights.group = rng.Bernoulli(0.5) ? weights.width : 0;
  return ScalingCandidate(weights, s, "");
}

namespace {

// Gene `gene` (0..2 the depth, width and resolution weights, 3 the group weight, 4 the factor)
// of `strategy` changed.
void MutateGene(v1::ScalingStrategy& strategy, int gene, const std::vector<double>& factors,
                Rng& rng) {
  if (gene == 3) {
    // The group weight: off, or following the width weight.
    strategy.set_group_weight(strategy.group_weight() > 0 ? 0 : strategy.width_weight());
    return;
  }
  if (gene == 4) {
    if (factors.size() < 2) return;
    double s = strategy.flops_factor();
    while (s == strategy.flops_factor()) s = factors[rng.Below(factors.size())];
    strategy.set_flops_factor(s);
    return;
  }
  double w = gene == 0 ? strategy.depth_weight()
                       : gene == 1 ? strategy.width_weight() : strategy.resolution_weight();
  if (rng.Bernoulli(0.25)) {
    w = 0;
  } else {
    // A weight of 0 comes back at a small share of the others.
    if (w <= 0) w = 0.05 * (strategy.depth_weight() + strategy.width_weight() +
                            strategy.resolution_weight() + 1e-9);
    w *= std::exp(0.5 * rng.Normal());
  }
  if (gene == 0) strategy.set_depth_weight(w);
  if (gene == 1) strategy.set_width_weight(w);
  if (gene == 2) strategy.set_resolution_weight(w);
  // Never all zero: the last weight changed keeps the sum positive.
  if (strategy.depth_weight() + strategy.width_weight() + strategy.resolution_weight() <= 0) {
    if (gene == 0) strategy.set_depth_weight(1);
    if (gene == 1) strategy.set_width_weight(1);
    if (gene == 2) strategy.set_resolution_weight(1);
  }
}

// The weights scaled to sum to 1 (the split depends only on their ratios) and the name cleared:
// a mutated strategy is no longer the named one.
v1::Candidate Normalized(v1::ScalingStrategy strategy) {
  const double sum =
      strategy.depth_weight() + strategy.width_weight() + strategy.resolution_weight();
  if (sum > 0 && std::isfinite(sum)) {
    strategy.set_group_weight(strategy.group_weight() / sum);
    strategy.set_depth_weight(strategy.depth_weight() / sum);
    strategy.set_width_weight(strategy.width_weight() / sum);
    strategy.set_resolution_weight(strategy.resolution_weight() / sum);
  }
  strategy.clear_name();
  return PackCandidate(strategy);
}

}  // namespace

v1::Candidate ScalingProblem::Mutate(const v1::Candidate& parent, Rng& rng) const {
  std::optional<v1::ScalingStrategy> strategy = StrategyOf(parent);
  if (!strategy || !StrategyStatus(*strategy).ok()) return Random(rng);
  MutateGene(*strategy, static_cast<int>(rng.Below(factors_.size() > 1 ? 5 : 4)), factors_, rng);
  return Normalized(*strategy);
}

v1::Candidate ScalingProblem::MutateGenes(const v1::Candidate& parent, double rate,
                                          const GenerationInfo& generation, Rng& rng) const {
  (void)generation;
  std::optional<v1::ScalingStrategy> strategy = StrategyOf(parent);
  if (!strategy || !StrategyStatus(*strategy).ok()) return Random(rng);
  for (int gene = 0; gene < 5; ++gene) {
    if (rng.Bernoulli(rate)) MutateGene(*strategy, gene, factors_, rng);
  }
  return Normalized(*strategy);
}

std::optional<v1::Candidate> ScalingProblem::Crossover(const v1::Candidate& a,
                                                       const v1::Candidate& b, Rng& rng) const {
  std::optional<v1::ScalingStrategy> x = StrategyOf(a);
  std::optional<v1::ScalingStrategy> y = StrategyOf(b);
  if (!x || !y || !StrategyStatus(*x).ok() || !StrategyStatus(*y).ok()) return std::nullopt;
  // Ratios, not raw weights, carry meaning: cross normalized weights.
  auto nx = StrategyOf(Normalized(*x));
  auto ny = StrategyOf(Normalized(*y));
  v1::ScalingStrategy child = *nx;
  if (rng.Bernoulli(0.5)) child.set_depth_weight(ny->depth_weight());
  if (rng.Bernoulli(0.5)) child.set_width_weight(ny->width_weight());
  if (rng.Bernoulli(0.5)) child.set_resolution_weight(ny->resolution_weight());
  if (rng.Bernoulli(0.5)) child.set_group_weight(ny->group_weight());
  if (rng.Bernoulli(0.5)) child.set_flops_factor(ny->flops_factor());
  if (!StrategyStatus(child).ok()) return std::nullopt;
  return Normalized(child);
}

std::vector<v1::Candidate> ScalingProblem::Seeds() const {
  std::vector<v1::Candidate> seeds;
  for (double s : factors_) {
    for (const std::string& name : ScalingStrategyNames()) {
      if (std::optional<ScalingWeights> w = NamedStrategy(name))
        seeds.push_back(ScalingCandidate(*w, s, name));
    }
  }
  return seeds;
}

std::optional<NetworkSpec> ScalingProblem::NetworkOf(const v1::Candidate& candidate) const {
  std::optional<v1::ScalingStrategy> strategy = StrategyOf(candidate);
  if (!strategy || !StrategyStatus(*strategy).ok()) return std::nullopt;
  if (std::find(factors_.begin(), factors_.end(), strategy->flops_factor()) == factors_.end())
    return std::nullopt;
  return ScaleNetwork(base_, WeightsOf(*strategy), strategy->flops_factor());
}

ProbeBytes ScalingProblem::Probe(const v1::Candidate& candidate) const {
  std::optional<NetworkSpec> net = NetworkOf(candidate);
  if (!net) return "not a network";
  return NetworkKey(*net);
}

std::optional<v1::Evaluation> ScalingProblem::CheckFeasible(const v1::Candidate& candidate) const {
  std::optional<v1::ScalingStrategy> strategy = StrategyOf(candidate);
  if (!strategy) return Fail(v1::INFEASIBLE, "scaling: the candidate is not a ScalingStrategy");
  if (absl::Status status = StrategyStatus(*strategy); !status.ok())
    return Fail(v1::INFEASIBLE, std::string(status.message()));
  if (std::find(factors_.begin(), factors_.end(), strategy->flops_factor()) == factors_.end())
    return Fail(v1::INFEASIBLE, absl::StrCat("scaling.strategy.flops_factor: ",
                                             strategy->flops_factor(),
                                             " is not one of scaling.flops_factors"));
  const NetworkSpec net = ScaleNetwork(base_, WeightsOf(*strategy), strategy->flops_factor());
  if (absl::Status status = ValidateNetwork(net, "scaling.strategy"); !status.ok())
    return Fail(v1::INFEASIBLE, std::string(status.message()));
  if (const Complexity c = CountComplexity(net); c.flops > kMaxScaledFlops)
    return Fail(v1::INFEASIBLE, absl::StrCat("scaling.strategy: the scaled network takes ",
                                             c.flops, " multiply-adds per image, above ",
                                             kMaxScaledFlops));
  return std::nullopt;
}

uint64_t ScalingProblem::EvaluationBytes(const v1::Candidate& candidate) const {
  if (CheckFeasible(candidate)) return 0;
  const std::optional<NetworkSpec> net = NetworkOf(candidate);
  if (!net) return 0;
  return static_cast<uint64_t>(EstimateEvaluationBytes(
      *net, schedule_.batch_size, static_cast<int>(spec_.timing().batch()), kTestBatch,
      spec_.data().train_images(), spec_.data().test_images()));
}

Problem::HitDifference ScalingProblem::CompareHit(const v1::Evaluation& cached,
                                                  const v1::Evaluation& fresh) const {
  HitDifference d;
  if (cached.status() != fresh.status()) return {std::numeric_limits<double>::infinity(), false};
  for (const char* pure : {"flops", "params", "acts"}) {
    if (Metric(cached, pure) != Metric(fresh, pure))
      return {std::numeric_limits<double>::infinity(), false};
  }
  d.difference = std::abs(Metric(cached, "error") - Metric(fresh, "error"));
  if (std::isnan(d.difference)) d.difference = 0;
  d.within = d.difference <= kErrorTolerance;
  return d;
}

std::string ScalingProblem::RequiredCudaDevice() const {
  return device_ == TimingDevice::kCuda ? spec_.timing().device_name() : std::string();
}

v1::Evaluation ScalingProblem::Evaluate(const v1::Candidate& candidate,
                                        const EvalContext& context) const {
  if (std::optional<v1::Evaluation> infeasible = CheckFeasible(candidate)) return *infeasible;
  const std::optional<NetworkSpec> net = NetworkOf(candidate);
  const std::optional<v1::ScalingStrategy> strategy = StrategyOf(candidate);
  if (device_ == TimingDevice::kCuda) {
    if (context.cuda_device < 0)
      return Fail(v1::FAILED, absl::StrCat("scaling.timing.device: the job times on \"",
                                           device_name_, "\", and this worker has no CUDA device"));
    const std::string here =
        absl::StrCat("cuda: ", TimingDeviceName(TimingDevice::kCuda, context.cuda_device));
    if (here != device_name_)
      return Fail(v1::FAILED, absl::StrCat("scaling.timing.device_name: this worker times on \"",
                                           here, "\", the job asks for \"", device_name_, "\""));
  }
  const absl::StatusOr<ImageClassData>& data = Data();
  if (!data.ok()) return Fail(v1::FAILED, std::string(data.status().message()));

  const Complexity c = CountComplexity(*net);
  const auto started = std::chrono::steady_clock::now();
  absl::StatusOr<TrainResult> trained;
  {
    std::shared_lock<std::shared_mutex> training(TimingLock());
    trained = TrainAndTest(*net, *data, schedule_, context.seed);
  }
  if (!trained.ok()) return Fail(v1::FAILED, std::string(trained.status().message()));
  const double train_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  absl::StatusOr<Timing> timing;
  {
    std::unique_lock<std::shared_mutex> alone(TimingLock());
    timing = TimeNetwork(
        *net, static_cast<int>(spec_.timing().batch()), static_cast<int>(spec_.timing().warmup()),
        static_cast<int>(spec_.timing().runs()), device_, std::max(context.cuda_device, 0));
  }
  if (!timing.ok()) return Fail(v1::FAILED, std::string(timing.status().message()));

  v1::Evaluation e;
  e.set_status(v1::OK);
  const ScaleFactors f = ComputeScaleFactors(WeightsOf(*strategy), strategy->flops_factor());
  auto& m = *e.mutable_metrics();
  m["error"] = trained->test_error;
  m["error_sq"] = trained->test_error * trained->test_error;
  m["initial_loss"] = trained->initial_loss;
  m["final_loss"] = trained->final_loss;
  m["flops"] = static_cast<double>(c.flops);
  m["params"] = static_cast<double>(c.params);
  m["acts"] = static_cast<double>(c.acts);
  m["flops_ratio"] = static_cast<double>(c.flops) / base_complexity_.flops;
  m["params_ratio"] = static_cast<double>(c.params) / base_complexity_.params;
  m["acts_ratio"] = static_cast<double>(c.acts) / base_complexity_.acts;
  m["inference_ms"] = timing->inference_ms;
  m["inference_ms_worst"] = timing->inference_ms_worst;
  m["train_step_ms"] = timing->train_step_ms;
  m["train_step_ms_worst"] = timing->train_step_ms_worst;
  m["depth_factor"] = f.d;
  m["width_factor"] = f.w;
  m["resolution"] = net->resolution;
  m["train_seconds"] = train_seconds;
  e.add_objectives(trained->test_error);
  switch (spec_.objective()) {
    case v1::ScalingSpec::ACTIVATIONS: e.add_objectives(static_cast<double>(c.acts)); break;
    case v1::ScalingSpec::TRAINING_TIME: e.add_objectives(timing->train_step_ms); break;
    default: e.add_objectives(timing->inference_ms); break;
  }
  return e;
}

std::string ScalingProblem::Render(const v1::Candidate& candidate, RenderFormat format) const {
  std::optional<v1::ScalingStrategy> strategy = StrategyOf(candidate);
  if (!strategy) return "(not a scaling strategy)";
  const std::optional<NetworkSpec> net = NetworkOf(candidate);
  const std::string network = net ? DescribeNetwork(*net) : "(infeasible)";
  if (format == RenderFormat::kJson) {
    return absl::StrFormat(
        "{\"name\": \"%s\", \"depth_weight\": %.17g, \"width_weight\": %.17g, "
        "\"resolution_weight\": %.17g, \"group_weight\": %.17g, \"flops_factor\": %.17g, "
        "\"network\": \"%s\"}",
        strategy->name(), strategy->depth_weight(), strategy->width_weight(),
        strategy->resolution_weight(), strategy->group_weight(), strategy->flops_factor(),
        network);
  }
  return absl::StrFormat("%s s=%s (d %.3g, w %.3g, r %.3g, g %.3g): %s",
                         strategy->name().empty() ? "searched" : strategy->name(),
                         FactorText(strategy->flops_factor()), strategy->depth_weight(),
                         strategy->width_weight(), strategy->resolution_weight(),
                         strategy->group_weight(), network);
}

namespace {

struct Row {
  const v1::HistoryEntry* entry;
  v1::ScalingStrategy strategy;
};

// The OK evaluations of `history`, first evaluation of each key only (AGGREGATE repeats of a key
// are told as its running mean; the last told mean is the one kept).
std::vector<Row> OkRows(const std::vector<v1::HistoryEntry>& history) {
  std::map<std::string, size_t> by_key;
  std::vector<Row> rows;
  for (const v1::HistoryEntry& entry : history) {
    if (entry.evaluation().status() != v1::OK) continue;
    v1::ScalingStrategy strategy;
    if (!UnpackCandidate(entry.candidate(), &strategy)) continue;
    auto [it, fresh] = by_key.emplace(entry.key(), rows.size());
    if (fresh) {
      rows.push_back({&entry, strategy});
    } else {
      rows[it->second].entry = &entry;
      if (rows[it->second].strategy.name().empty())
        rows[it->second].strategy = strategy;  // keep a name when any row of the key has one
    }
  }
  return rows;
}

double Exponent(double ratio, double s) { return std::log(ratio) / std::log(s); }

}  // namespace

std::string ScalingProblem::Report(const std::vector<v1::HistoryEntry>& history) const {
  std::string out = absl::StrFormat(
      "scaling: base %s: %.4g MF, %.4g M params, %.4g M acts\n"
      "data: %s, %d training / %d test images; %d epoch(s), batch %d, lr %g; timing on %s, "
      "batch %d, median of %d runs\n",
      DescribeNetwork(base_), base_complexity_.flops / 1e6, base_complexity_.params / 1e6,
      base_complexity_.acts / 1e6, spec_.data().directory(), spec_.data().train_images(),
      spec_.data().test_images(), schedule_.epochs, schedule_.batch_size,
      schedule_.learning_rate, device_name_, spec_.timing().batch(), spec_.timing().runs());
  const std::vector<Row> rows = OkRows(history);
  absl::StrAppendFormat(&out, "results: %d, %d distinct networks evaluated\n\n", history.size(),
                        rows.size());

  // The named strategies, per factor.
  absl::StrAppendFormat(&out, "%-5s %3s %9s %9s %9s %6s %6s %6s %15s %9s %9s   %s\n", "strat",
                        "s", "MFlops", "Mparams", "Macts", "e_f", "e_p", "e_a", "error (+- sd)",
                        "infer ms", "train ms", "network");
  for (double s : factors_) {
    for (const std::string& name : ScalingStrategyNames()) {
      for (const Row& row : rows) {
        if (row.strategy.name() != name || row.strategy.flops_factor() != s) continue;
        const v1::Evaluation& e = row.entry->evaluation();
        const double error = Metric(e, "error");
        const double spread = std::sqrt(std::max(0.0, Metric(e, "error_sq") - error * error));
        const std::optional<NetworkSpec> net = NetworkOf(row.entry->candidate());
        absl::StrAppendFormat(
            &out, "%-5s %3s %9.3f %9.4f %9.4f %6.2f %6.2f %6.2f %8.4f +- %.4f %9.3f %9.3f   %s\n",
            name, FactorText(s), Metric(e, "flops") / 1e6, Metric(e, "params") / 1e6,
            Metric(e, "acts") / 1e6, Exponent(Metric(e, "flops_ratio"), s),
            Exponent(Metric(e, "params_ratio"), s), Exponent(Metric(e, "acts_ratio"), s), error,
            spread, Metric(e, "inference_ms"), Metric(e, "train_step_ms"),
            net ? DescribeNetwork(*net) : "");
        break;
      }
    }
  }

  // Runtime against complexity.
  auto correlations = [&](bool with_resolution) {
    std::vector<double> flops, params, acts, infer, train;
    for (const Row& row : rows) {
      const v1::Evaluation& e = row.entry->evaluation();
      if (!with_resolution && Metric(e, "resolution") != base_.resolution) continue;
      flops.push_back(Metric(e, "flops"));
      params.push_back(Metric(e, "params"));
      acts.push_back(Metric(e, "acts"));
      infer.push_back(Metric(e, "inference_ms"));
      train.push_back(Metric(e, "train_step_ms"));
    }
    return absl::StrFormat(
        "  %-34s n %3d  inference: flops %5.2f params %5.2f acts %5.2f   training step: flops "
        "%5.2f params %5.2f acts %5.2f\n",
        with_resolution ? "all networks" : "networks at the base resolution", flops.size(),
        PearsonCorrelation(flops, infer), PearsonCorrelation(params, infer),
        PearsonCorrelation(acts, infer), PearsonCorrelation(flops, train),
        PearsonCorrelation(params, train), PearsonCorrelation(acts, train));
  };
  out += "\nPearson r of runtime with complexity:\n";
  out += correlations(true);
  out += correlations(false);

  // The front of (error, second objective).
  std::vector<Objectives> points;
  for (const Row& row : rows) {
    const v1::Evaluation& e = row.entry->evaluation();
    points.push_back({e.objectives(0), SecondObjective(e)});
  }
  std::vector<size_t> front = ParetoFront(points);
  std::sort(front.begin(), front.end(),
            [&](size_t a, size_t b) { return points[a][1] < points[b][1]; });
  absl::StrAppendFormat(&out, "\nPareto front of (error, %s): %d networks\n",
                        SecondObjectiveName(), front.size());
  for (size_t i : front) {
    absl::StrAppendFormat(&out, "  error %.4f  %s %-10.4g %s\n", points[i][0],
                          SecondObjectiveName(), points[i][1],
                          Render(rows[i].entry->candidate(), RenderFormat::kText));
  }
  return out;
}

std::vector<v1::ReportChart> ScalingProblem::Charts(
    const std::vector<v1::HistoryEntry>& history) const {
  const std::vector<Row> rows = OkRows(history);
  std::vector<v1::ReportChart> charts;
  auto scatter = [&](const std::string& name, const std::string& title, const std::string& x_label,
                     const std::string& x_metric) {
    v1::ReportChart chart;
    chart.set_name(name);
    chart.set_title(title);
    chart.set_x_label(x_label);
    chart.set_y_label("inference time (ms)");
    chart.set_log_x(true);
    chart.set_log_y(true);
    for (double s : factors_) {
      v1::ChartSeries* series = chart.add_series();
      series->set_label("s = " + FactorText(s));
      series->set_points(true);
      for (const Row& row : rows) {
        if (row.strategy.flops_factor() != s) continue;
        series->add_x(Metric(row.entry->evaluation(), x_metric));
        series->add_y(Metric(row.entry->evaluation(), "inference_ms"));
      }
    }
    charts.push_back(std::move(chart));
  };
  scatter("runtime-vs-activations", "inference time against activations", "activations", "acts");
  scatter("runtime-vs-flops", "inference time against flops", "flops (multiply-adds)", "flops");

  v1::ReportChart front_chart;
  front_chart.set_name("front");
  front_chart.set_title("test error against " + ObjectiveDisplays()[1].label());
  front_chart.set_x_label(ObjectiveDisplays()[1].label() +
                          (ObjectiveDisplays()[1].unit().empty()
                               ? ""
                               : " (" + ObjectiveDisplays()[1].unit() + ")"));
  front_chart.set_y_label("test error");
  front_chart.set_log_x(true);
  std::vector<Objectives> points;
  v1::ChartSeries* all = front_chart.add_series();
  all->set_label("every network");
  all->set_points(true);
  for (const Row& row : rows) {
    const v1::Evaluation& e = row.entry->evaluation();
    points.push_back({e.objectives(0), SecondObjective(e)});
    all->add_x(points.back()[1]);
    all->add_y(points.back()[0]);
  }
  std::vector<size_t> front = ParetoFront(points);
  std::sort(front.begin(), front.end(),
            [&](size_t a, size_t b) { return points[a][1] < points[b][1]; });
  v1::ChartSeries* pareto = front_chart.add_series();
  pareto->set_label("Pareto front");
  pareto->set_step(true);
  for (size_t i : front) {
    pareto->add_x(points[i][1]);
    pareto->add_y(points[i][0]);
  }
  charts.push_back(std::move(front_chart));
  return charts;
}

}  // namespace evolv
