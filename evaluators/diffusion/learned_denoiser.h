// A learned denoiser for the diffusion domain: a ResidualMlp trained by evolv on samples of the
// spec's data (a Gaussian mixture, or projected images), saved as a DenoiserModel file (proto/evolv/v1/diffusion.proto).
//
// x_0-prediction with the noise-level scaling of Karras et al. (EDM), written for the
// variance-preserving x_t = a x_0 + s eps (a^2 = alpha_bar, s^2 = 1 - a^2) and the data scale
// sigma_d: with D = a^2 sigma_d^2 + s^2,
//   E[x_0 | x_t] ~ c_skip x_t + c_out F([c_in x_t; embedding(t)]),
//   c_in = 1 / sqrt(D), c_skip = a sigma_d^2 / D, c_out = s sigma_d / sqrt(D),
// and the network F is trained toward (x_0 - c_skip x_t) / c_out, a target of unit scale at every
// noise level (-eps as s -> 0, x_0 / sigma_d as a -> 0). Epsilon-prediction was not used: its
// x_0 = (x_t - s eps_hat) / a multiplies the network's error by 1 / a, about 10^4 at t = 999 of
// the cosine schedule, where a sampler starting there takes its first x_0.
//
// Training: Adam, batches of fresh data samples (mixture samples, or training images' coefficients
// drawn with replacement) with t uniform in 0..999 and eps ~ N(0, I),
// layer-drop (each block skipped with probability `layer_drop` at each step, so that skipping
// blocks at sampling time costs little), a linear warm-up then a cosine decay of the step size.
// Everything is drawn from the spec's seed: the same spec trains the same model, bit for bit, on
// the same build.
//
// Thread-safety: LearnedDenoiser is immutable after construction (Denoise is const and safe to
// call concurrently); the free functions are reentrant.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "evaluators/diffusion/denoiser.h"
#include "evaluators/diffusion/gaussian_mixture.h"
#include "evaluators/diffusion/image_data.h"
#include "evaluators/diffusion/residual_mlp.h"
#include "evolv/v1/diffusion.pb.h"

namespace evolv {

inline constexpr int kDefaultDenoiserBlocks = 8;
inline constexpr int kDefaultDenoiserWidth = 128;
inline constexpr int kDefaultTrainingSteps = 3000;
inline constexpr int kDefaultTrainingBatch = 256;
inline constexpr double kDefaultLearningRate = 1e-3;
inline constexpr double kDefaultLayerDrop = 0.1;
inline constexpr int kTimeFrequencies = 8;

inline constexpr int kMaxDenoiserBlocks = 32;
inline constexpr int kMaxDenoiserWidth = 512;
inline constexpr int64_t kMaxDenoiserParameters = int64_t{1} << 22;
inline constexpr int kMaxTrainingSteps = 1000000;
inline constexpr int kMaxTrainingBatch = 8192;
inline constexpr double kMaxLayerDrop = 0.9;
// batch * width * (2 * blocks + 4): about the floats one training step keeps (256 MiB at the
// limit: each block's input and pre-activation, the input, the last hidden layer, temporaries).
inline constexpr int64_t kMaxTrainingActivations = int64_t{1} << 26;
inline constexpr int64_t kMaxModelFileBytes = int64_t{64} << 20;

// The spec with defaults filled in (blocks, width, training fields).
v1::LearnedDenoiserSpec NormalizedDenoiserSpec(const v1::LearnedDenoiserSpec& spec);

// InvalidArgument "diffusion.denoiser.<field>: ..." for a field out of its documented range
// (docs/limits.md), or for an empty `model` when `require_model`.
absl::Status ValidateDenoiserSpec(const v1::LearnedDenoiserSpec& spec, int dimension,
                                  bool require_model);

struct TrainingProgress {
  int step = 0;     // steps done
  int steps = 0;    // of
  double loss = 0;  // training loss of the last step
};

// Trains the denoiser `spec.denoiser` describes on `spec.mixture` or `spec.images` (validated
// here: the data and the denoiser fields, InvalidArgument naming the field) for `spec.schedule`. Calls
// `progress` (when set) about every 1 % of the steps. The model's training field keeps the
// normalized training spec without the model path.
absl::StatusOr<v1::DenoiserModel> TrainDenoiser(
    const v1::DiffusionSpec& spec,
    const std::function<void(const TrainingProgress&)>& progress = nullptr);

// Reads and checks a model file: InvalidArgument "<field>: '<path>' ..." when it is missing, not a
// regular file (a FIFO, device or directory is refused before any read: "is not a regular file
// (a FIFO)"), unreadable, larger than kMaxModelFileBytes (checked before reading), not a
// DenoiserModel, or inconsistent (sizes out of the limits, a parameter count that does not match
// the shape, a non-finite value).
absl::StatusOr<v1::DenoiserModel> ReadDenoiserModel(const std::string& path,
                                                    const std::string& field);
// Writes `model` to `path` (through a temporary file renamed over it). Internal error with the
// reason when the file cannot be written.
absl::Status WriteDenoiserModel(const v1::DenoiserModel& model, const std::string& path);

// InvalidArgument naming the field when `model` (read from `path`) is not a denoiser of `spec`
// whose data is `mixture` or `images` (exactly one not null): another dimension
// ("diffusion.denoiser.model"), block count ("diffusion.denoiser.blocks"), width
// ("diffusion.denoiser.width"), schedule or data ("diffusion.denoiser.model"; images are compared
// by their fingerprint, so the same files anywhere match).
absl::Status CheckModelMatchesSpec(const v1::DenoiserModel& model, const std::string& path,
                                   const v1::DiffusionSpec& spec, const GaussianMixture* mixture,
                                   const ImageData* images);

// The preconditioned network as a Denoiser with NumBlocks() blocks.
class LearnedDenoiser : public Denoiser {
 public:
  // `model` must have passed ReadDenoiserModel's checks (or come from TrainDenoiser).
  explicit LearnedDenoiser(const v1::DenoiserModel& model);

  int dimension() const override { return dimension_; }
  int NumBlocks() const override { return mlp_.shape().blocks; }
  // Columns are processed in chunks of 1024, so memory stays bounded for any N.
  Eigen::MatrixXd Denoise(const Eigen::MatrixXd& x_t, int step, double alpha_bar,
                          const std::vector<int>& skipped_blocks) const override;

  const ResidualMlp<float>& network() const { return mlp_; }

  // The network's output for its input columns, the blocks skipped where skipped[b].
  using Network = std::function<Eigen::MatrixXf(const Eigen::MatrixXf& input,
                                                const std::vector<bool>& skipped)>;
  // Denoise with `network` in place of this process's Eigen forward pass (a CUDA device, or the
  // device's host twin), called on chunks of at most `chunk` columns (> 0).
  Eigen::MatrixXd DenoiseWith(const Network& network, Eigen::Index chunk,
                              const Eigen::MatrixXd& x_t, int step, double alpha_bar,
                              const std::vector<int>& skipped_blocks) const;

 private:
  int dimension_;
  int frequencies_;
  double data_scale_;
  ResidualMlp<float> mlp_;
};

// The network input for `x_t` (d x n) at `step` with noise level `alpha_bar`: c_in x_t over the
// step embedding (sin, cos of step * 1000^(-j/F), j < F); exposed for tests.
Eigen::MatrixXf DenoiserInput(const Eigen::MatrixXd& x_t, int step, double alpha_bar,
                              double data_scale, int frequencies);

}  // namespace evolv
