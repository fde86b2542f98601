#include "evaluators/diffusion/learned_denoiser.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "evaluators/common/input_file.h"
#include "evaluators/diffusion/noise_schedule.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace evolv {
namespace {

constexpr int kHeldOutSamples = 1024;
constexpr int kDenoiseChunk = 1024;

absl::Status DenoiserFieldError(const std::string& field, const std::string& reason) {
  return absl::InvalidArgumentError(absl::StrCat("diffusion.denoiser.", field, ": ", reason));
}

const char* ScheduleName(v1::DiffusionSpec::Schedule s) {
  return s == v1::DiffusionSpec::LINEAR ? "linear" : "cosine";
}

v1::DiffusionSpec::Schedule NormalizedSchedule(v1::DiffusionSpec::Schedule s) {
  return s == v1::DiffusionSpec::LINEAR ? v1::DiffusionSpec::LINEAR : v1::DiffusionSpec::COSINE;
}

// The preconditioning of the header at noise level alpha_bar.
struct Scaling {
  double c_in, c_skip, c_out;
  Scaling(double alpha_bar, double data_scale) {
    const double a = std::sqrt(alpha_bar), s = std::sqrt(1 - alpha_bar);
    const double sd2 = data_scale * data_scale;
    const double d = a * a * sd2 + s * s;
    c_in = 1 / std::sqrt(d);
    c_skip = a * sd2 / d;
    c_out = s * data_scale / std::sqrt(d);
  }
};

// Writes the step embedding of `step` into `out` (2F values).
template <typename Out>
void Embed(int step, int frequencies, Out&& out) {
  for (int j = 0; j < frequencies; ++j) {
    const double omega =
        std::pow(static_cast<double>(kDiffusionTimeSteps), -static_cast<double>(j) / frequencies);
    out(j) = static_cast<float>(std::sin(step * omega));
    out(frequencies + j) = static_cast<float>(std::cos(step * omega));
  }
}

// Draws n samples of the data (d x n).
using DataSampler = std::function<Eigen::MatrixXd(int n, Rng& rng)>;

// A training batch: inputs (d + 2F) x n and targets d x n, from fresh samples of the data.
void MakeBatch(const DataSampler& sample, const std::vector<double>& alpha_bars, double data_scale,
               int frequencies, int n, Rng& rng, Eigen::MatrixXf* input, Eigen::MatrixXf* target) {
  const Eigen::MatrixXd x0 = sample(n, rng);
  const int d = static_cast<int>(x0.rows());
  input->resize(d + 2 * frequencies, n);
  target->resize(d, n);
  Eigen::VectorXd eps(d);
  for (int j = 0; j < n; ++j) {
    const int t = static_cast<int>(rng.Below(kDiffusionTimeSteps));
    for (int i = 0; i < d; ++i) eps[i] = rng.Normal();
    const double ab = alpha_bars[t];
    const Scaling c(ab, data_scale);
    const Eigen::VectorXd x_t = std::sqrt(ab) * x0.col(j) + std::sqrt(1 - ab) * eps;
    input->col(j).head(d) = (c.c_in * x_t).cast<float>();
    Embed(t, frequencies, input->col(j).tail(2 * frequencies));
    target->col(j) = ((x0.col(j) - c.c_skip * x_t) / c.c_out).cast<float>();
  }
}

double MeanSquaredError(const ResidualMlp<float>& mlp, const Eigen::MatrixXf& input,
                        const Eigen::MatrixXf& target) {
  const Eigen::MatrixXf y = mlp.Forward(input, {}, nullptr);
  return (y - target).cast<double>().squaredNorm() / static_cast<double>(target.size());
}

std::string Serialize(const v1::DenoiserModel& model) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream out(&stream);
  out.SetSerializationDeterministic(true);
  model.SerializeToCodedStream(&out);
  out.Trim();
  return bytes;
}

bool SameMixture(const GaussianMixture& a, const GaussianMixture& b) {
  if (a.dimension() != b.dimension() || a.components().size() != b.components().size()) {
    return false;
  }
  auto close = [](const auto& x, const auto& y) {
    return ((x - y).array().abs() <= 1e-12 * (1 + x.array().abs())).all();
  };
  for (size_t k = 0; k < a.components().size(); ++k) {
    const GaussianComponentModel& p = a.components()[k];
    const GaussianComponentModel& q = b.components()[k];
    const Eigen::MatrixXd cp = p.rotation * p.variances.asDiagonal() * p.rotation.transpose();
    const Eigen::MatrixXd cq = q.rotation * q.variances.asDiagonal() * q.rotation.transpose();
    if (std::abs(p.weight - q.weight) > 1e-12 || !close(p.mean, q.mean) || !close(cp, cq)) {
      return false;
    }
  }
  return true;
}

}  // namespace

v1::LearnedDenoiserSpec NormalizedDenoiserSpec(const v1::LearnedDenoiserSpec& spec) {
  v1::LearnedDenoiserSpec s = spec;
  if (s.blocks() == 0) s.set_blocks(kDefaultDenoiserBlocks);
  if (s.width() == 0) s.set_width(kDefaultDenoiserWidth);
  if (s.training_steps() == 0) s.set_training_steps(kDefaultTrainingSteps);
  if (s.batch() == 0) s.set_batch(kDefaultTrainingBatch);
  if (s.learning_rate() == 0) s.set_learning_rate(kDefaultLearningRate);
  if (!s.has_layer_drop()) s.set_layer_drop(kDefaultLayerDrop);
  return s;
}

absl::Status ValidateDenoiserSpec(const v1::LearnedDenoiserSpec& raw, int dimension,
                                  bool require_model) {
  if (require_model && raw.model().empty()) {
    return DenoiserFieldError("model",
                              "required: the path of a model file (evolv train-denoiser "
                              "SPEC writes it)");
  }
  if (raw.blocks() > static_cast<uint32_t>(kMaxDenoiserBlocks)) {
    return DenoiserFieldError(
        "blocks", absl::StrCat(raw.blocks(), " exceeds the limit ", kMaxDenoiserBlocks));
  }
  if (raw.width() > static_cast<uint32_t>(kMaxDenoiserWidth)) {
    return DenoiserFieldError("width",
                              absl::StrCat(raw.width(), " exceeds the limit ", kMaxDenoiserWidth));
  }
  const v1::LearnedDenoiserSpec s = NormalizedDenoiserSpec(raw);
  const MlpShape shape{dimension + 2 * kTimeFrequencies, static_cast<int>(s.width()),
                       static_cast<int>(s.blocks()), dimension};
  if (shape.Parameters() > kMaxDenoiserParameters) {
    return DenoiserFieldError("width",
                              absl::StrCat("the network would have ", shape.Parameters(),
                                           " parameters; the limit is ", kMaxDenoiserParameters));
  }
  if (s.training_steps() > static_cast<uint32_t>(kMaxTrainingSteps)) {
    return DenoiserFieldError(
        "training_steps",
        absl::StrCat(s.training_steps(), " exceeds the limit ", kMaxTrainingSteps));
  }
  if (s.batch() > static_cast<uint32_t>(kMaxTrainingBatch)) {
    return DenoiserFieldError("batch",
                              absl::StrCat(s.batch(), " exceeds the limit ", kMaxTrainingBatch));
  }
  const int64_t activations = int64_t{s.batch()} * s.width() * (2 * int64_t{s.blocks()} + 4);
  if (activations > kMaxTrainingActivations) {
    return DenoiserFieldError("batch",
                              absl::StrCat("batch * width * (2 * blocks + 4) = ", activations,
                                           " exceeds the limit ", kMaxTrainingActivations));
  }
  if (!(s.learning_rate() > 0 && s.learning_rate() <= 1)) {
    return DenoiserFieldError("learning_rate",
                              absl::StrCat(s.learning_rate(), " is not in (0, 1]"));
  }
  if (!(s.layer_drop() >= 0 && s.layer_drop() <= kMaxLayerDrop)) {
    return DenoiserFieldError("layer_drop",
                              absl::StrCat(s.layer_drop(), " is not in [0, ", kMaxLayerDrop, "]"));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::DenoiserModel> TrainDenoiser(
    const v1::DiffusionSpec& spec, const std::function<void(const TrainingProgress&)>& progress) {
  if (!v1::DiffusionSpec::Schedule_IsValid(spec.schedule())) {
    return absl::InvalidArgumentError("diffusion.schedule: unknown value");
  }
  // The data: the mixture, or the projected images.
  std::optional<GaussianMixture> mixture;
  std::unique_ptr<ImageData> images;
  DataSampler sample;
  int d = 0;
  double data_scale = 0;
  if (spec.has_images()) {
    if (spec.has_mixture()) {
      return absl::InvalidArgumentError(
          "diffusion.images: give either diffusion.mixture or diffusion.images, not both");
    }
    absl::StatusOr<std::unique_ptr<ImageData>> read = ImageData::FromSpec(spec.images());
    if (!read.ok()) return read.status();
    images = *std::move(read);
    d = images->dimension();
    data_scale = std::sqrt(images->MeanVariance());
    sample = [&images](int n, Rng& rng) { return images->Sample(n, rng); };
  } else {
    absl::StatusOr<GaussianMixture> read = GaussianMixture::FromSpec(spec.mixture());
    if (!read.ok()) return read.status();
    mixture = *std::move(read);
    d = mixture->dimension();
    data_scale = std::sqrt(mixture->Covariance().trace() / d);
    sample = [&mixture](int n, Rng& rng) { return mixture->Sample(n, rng); };
  }
  if (absl::Status s = ValidateDenoiserSpec(spec.denoiser(), d, false); !s.ok()) return s;
  v1::LearnedDenoiserSpec config = NormalizedDenoiserSpec(spec.denoiser());
  config.clear_model();
  const v1::DiffusionSpec::Schedule schedule = NormalizedSchedule(spec.schedule());
  const std::vector<double> alpha_bars =
      AlphaBars(schedule == v1::DiffusionSpec::LINEAR ? NoiseScheduleKind::kLinear
                                                      : NoiseScheduleKind::kCosine);

  const MlpShape shape{d + 2 * kTimeFrequencies, static_cast<int>(config.width()),
                       static_cast<int>(config.blocks()), d};
  ResidualMlp<float> mlp(shape);
  const uint64_t seed = config.seed();
  Rng init_rng(Mix64(seed ^ 0x696e6974ULL));
  mlp.Initialize(init_rng);
  Rng data_rng(Mix64(seed ^ 0x64617461ULL));
  Rng drop_rng(Mix64(seed ^ 0x64726f70ULL));
  Rng held_out_rng(Mix64(seed ^ 0x68656c64ULL));

  Eigen::MatrixXf held_input, held_target;
  MakeBatch(sample, alpha_bars, data_scale, kTimeFrequencies, kHeldOutSamples, held_out_rng,
            &held_input, &held_target);
  const double initial_loss = MeanSquaredError(mlp, held_input, held_target);

  const int steps = static_cast<int>(config.training_steps());
  const int batch = static_cast<int>(config.batch());
  const int warmup = std::min(100, steps / 10);
  Adam<float> adam(shape.Parameters());
  ResidualMlp<float>::Vector gradient(shape.Parameters());
  ResidualMlp<float>::Trace trace;
  std::vector<bool> skipped(shape.blocks);
  Eigen::MatrixXf input, target;
  const int report_every = std::max(1, steps / 100);
  for (int step = 0; step < steps; ++step) {
    MakeBatch(sample, alpha_bars, data_scale, kTimeFrequencies, batch, data_rng, &input, &target);
    for (int b = 0; b < shape.blocks; ++b) skipped[b] = drop_rng.Bernoulli(config.layer_drop());
    const Eigen::MatrixXf y = mlp.Forward(input, skipped, &trace);
    const Eigen::MatrixXf diff = y - target;
    const double scale = 1.0 / static_cast<double>(diff.size());
    gradient.setZero();
    mlp.Backward(trace, (static_cast<float>(2 * scale) * diff).eval(), &gradient);
    double rate = config.learning_rate();
    if (step < warmup) {
      rate *= (step + 1.0) / warmup;
    } else {
      rate *= 0.5 * (1 + std::cos(M_PI * (step - warmup) / std::max(1, steps - warmup)));
    }
    adam.Step(gradient, rate, &mlp.mutable_parameters());
    if (progress && ((step + 1) % report_every == 0 || step + 1 == steps)) {
      progress({step + 1, steps, diff.cast<double>().squaredNorm() * scale});
    }
  }

  v1::DenoiserModel model;
  model.set_format(1);
  model.set_dimension(d);
  model.set_width(shape.width);
  model.set_blocks(shape.blocks);
  model.set_time_frequencies(kTimeFrequencies);
  model.set_data_scale(data_scale);
  model.set_schedule(schedule);
  if (images) {
    v1::ImageDataSpec trained_on = images->spec();
    trained_on.clear_directory();  // the fingerprint stands for the files, wherever they are
    *model.mutable_images() = trained_on;
    model.set_data_fingerprint(images->fingerprint());
  } else {
    *model.mutable_mixture() = spec.mixture();
  }
  *model.mutable_training() = config;
  const auto& p = mlp.parameters();
  model.mutable_parameters()->Add(p.data(), p.data() + p.size());
  model.set_initial_loss(initial_loss);
  model.set_final_loss(MeanSquaredError(mlp, held_input, held_target));
  return model;
}

absl::StatusOr<v1::DenoiserModel> ReadDenoiserModel(const std::string& path,
                                                    const std::string& field) {
  auto refuse = [&](const std::string& reason) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": '", path, "' ", reason));
  };
  if (path.empty()) return absl::InvalidArgumentError(field + ": required");
  // A regular file only (a FIFO or device is refused before any read), its size checked first.
  absl::StatusOr<std::unique_ptr<InputFile>> file = InputFile::Open(path, field);
  if (!file.ok()) return file.status();
  const uint64_t size = (*file)->size();
  if (size > static_cast<uint64_t>(kMaxModelFileBytes)) {
    return refuse(absl::StrCat("has ", size, " bytes; the limit is ", kMaxModelFileBytes));
  }
  absl::StatusOr<std::string> bytes = (*file)->ReadRest();
  if (!bytes.ok()) return bytes.status();
  v1::DenoiserModel model;
  if (!model.ParseFromString(*bytes)) return refuse("is not a denoiser model (DenoiserModel)");
  auto invalid = [&](const std::string& what) { return refuse("is not a valid model: " + what); };
  if (model.format() != 1) return invalid(absl::StrCat("format ", model.format(), ", not 1"));
  if (model.dimension() < 1 || model.dimension() > static_cast<uint32_t>(kMaxMixtureDimension)) {
    return invalid(
        absl::StrCat("dimension ", model.dimension(), " is outside 1..", kMaxMixtureDimension));
  }
  if (model.width() < 1 || model.width() > static_cast<uint32_t>(kMaxDenoiserWidth)) {
    return invalid(absl::StrCat("width ", model.width(), " is outside 1..", kMaxDenoiserWidth));
  }
  if (model.blocks() < 1 || model.blocks() > static_cast<uint32_t>(kMaxDenoiserBlocks)) {
    return invalid(absl::StrCat("blocks ", model.blocks(), " is outside 1..", kMaxDenoiserBlocks));
  }
  if (model.time_frequencies() != static_cast<uint32_t>(kTimeFrequencies)) {
    return invalid(
        absl::StrCat("time_frequencies ", model.time_frequencies(), ", not ", kTimeFrequencies));
  }
  if (!std::isfinite(model.data_scale()) || model.data_scale() <= 0) {
    return invalid("data_scale must be finite and > 0");
  }
  const MlpShape shape{static_cast<int>(model.dimension()) + 2 * kTimeFrequencies,
                       static_cast<int>(model.width()), static_cast<int>(model.blocks()),
                       static_cast<int>(model.dimension())};
  if (shape.Parameters() > kMaxDenoiserParameters) {
    return invalid(
        absl::StrCat(shape.Parameters(), " parameters exceed the limit ", kMaxDenoiserParameters));
  }
  if (model.parameters_size() != shape.Parameters()) {
    return invalid(
        absl::StrCat(model.parameters_size(), " parameters; its shape has ", shape.Parameters()));
  }
  for (float v : model.parameters()) {
    if (!std::isfinite(v)) return invalid("a parameter is not finite");
  }
  if (!v1::DiffusionSpec::Schedule_IsValid(model.schedule())) return invalid("unknown schedule");
  return model;
}

absl::Status WriteDenoiserModel(const v1::DenoiserModel& model, const std::string& path) {
  const std::string temporary = absl::StrCat(path, ".tmp-", getpid());
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out) {
      return absl::InternalError(
          absl::StrCat("cannot write '", temporary, "': ", std::strerror(errno)));
    }
    const std::string bytes = Serialize(model);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      std::remove(temporary.c_str());
      return absl::InternalError(absl::StrCat("writing '", temporary, "' failed"));
    }
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    std::remove(temporary.c_str());
    return absl::InternalError(absl::StrCat("cannot write '", path, "': ", error.message()));
  }
  return absl::OkStatus();
}

absl::Status CheckModelMatchesSpec(const v1::DenoiserModel& model, const std::string& path,
                                   const v1::DiffusionSpec& spec, const GaussianMixture* mixture,
                                   const ImageData* images) {
  const v1::LearnedDenoiserSpec s = NormalizedDenoiserSpec(spec.denoiser());
  const int dimension = images ? images->dimension() : mixture->dimension();
  if (model.dimension() != static_cast<uint32_t>(dimension)) {
    return DenoiserFieldError(
        "model", absl::StrCat("'", path, "' has dimension ", model.dimension(), "; diffusion.",
                              images ? "images" : "mixture", ".dimension is ", dimension));
  }
  if (model.blocks() != s.blocks()) {
    return DenoiserFieldError(
        "blocks", absl::StrCat(s.blocks(), ", but the model '", path, "' has ", model.blocks()));
  }
  if (model.width() != s.width()) {
    return DenoiserFieldError(
        "width", absl::StrCat(s.width(), ", but the model '", path, "' has ", model.width()));
  }
  const v1::DiffusionSpec::Schedule schedule = NormalizedSchedule(spec.schedule());
  if (NormalizedSchedule(model.schedule()) != schedule) {
    return DenoiserFieldError(
        "model", absl::StrCat("'", path, "' was trained for the ", ScheduleName(model.schedule()),
                              " schedule; diffusion.schedule is ", ScheduleName(schedule)));
  }
  if (images) {
    if (model.data_fingerprint() != images->fingerprint()) {
      return DenoiserFieldError(
          "model",
          absl::StrCat("'", path, "' was trained on other data than diffusion.images (",
                       model.has_images() ? "other files or settings" : "a mixture", ")"));
    }
    return absl::OkStatus();
  }
  absl::StatusOr<GaussianMixture> trained_on = GaussianMixture::FromSpec(model.mixture());
  if (model.has_images() || !trained_on.ok() || !SameMixture(*trained_on, *mixture)) {
    return DenoiserFieldError(
        "model",
        absl::StrCat("'", path, "' was trained on other data than diffusion.mixture"));
  }
  return absl::OkStatus();
}

Eigen::MatrixXf DenoiserInput(const Eigen::MatrixXd& x_t, int step, double alpha_bar,
                              double data_scale, int frequencies) {
  const int d = static_cast<int>(x_t.rows());
  Eigen::MatrixXf input(d + 2 * frequencies, x_t.cols());
  input.topRows(d) = (Scaling(alpha_bar, data_scale).c_in * x_t).cast<float>();
  Eigen::VectorXf embedding(2 * frequencies);
  Embed(step, frequencies, embedding);
  input.bottomRows(2 * frequencies).colwise() = embedding;
  return input;
}

LearnedDenoiser::LearnedDenoiser(const v1::DenoiserModel& model)
    : dimension_(static_cast<int>(model.dimension())),
      frequencies_(static_cast<int>(model.time_frequencies())),
      data_scale_(model.data_scale()),
      mlp_(MlpShape{dimension_ + 2 * frequencies_, static_cast<int>(model.width()),
                    static_cast<int>(model.blocks()), dimension_}) {
  auto& p = mlp_.mutable_parameters();
  for (int64_t i = 0; i < p.size(); ++i) p[i] = model.parameters(static_cast<int>(i));
}

Eigen::MatrixXd LearnedDenoiser::Denoise(const Eigen::MatrixXd& x_t, int step, double alpha_bar,
                                         const std::vector<int>& skipped_blocks) const {
  return DenoiseWith(
      [this](const Eigen::MatrixXf& input, const std::vector<bool>& skipped) {
        return mlp_.Forward(input, skipped, nullptr);
      },
      kDenoiseChunk, x_t, step, alpha_bar, skipped_blocks);
}

Eigen::MatrixXd LearnedDenoiser::DenoiseWith(const Network& network, Eigen::Index chunk,
                                             const Eigen::MatrixXd& x_t, int step, double alpha_bar,
                                             const std::vector<int>& skipped_blocks) const {
  std::vector<bool> skipped(NumBlocks(), false);
  for (int b : skipped_blocks) {
    if (b >= 0 && b < NumBlocks()) skipped[b] = true;  // the caller checks; out of range is ignored
  }
  const Scaling c(alpha_bar, data_scale_);
  Eigen::MatrixXd x0(x_t.rows(), x_t.cols());
  for (Eigen::Index first = 0; first < x_t.cols(); first += chunk) {
    const Eigen::Index n = std::min<Eigen::Index>(chunk, x_t.cols() - first);
    const auto columns = x_t.middleCols(first, n);
    const Eigen::MatrixXf f =
        network(DenoiserInput(columns, step, alpha_bar, data_scale_, frequencies_), skipped);
    x0.middleCols(first, n) = c.c_skip * columns + c.c_out * f.cast<double>();
  }
  return x0;
}

}  // namespace evolv
