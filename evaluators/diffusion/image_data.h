// Images as the data of a diffusion problem (ImageDataSpec in diffusion.proto): an idx dataset
// such as Fashion-MNIST, projected on its leading principal components so that a small denoiser
// trains in minutes on two cores, with what the problem needs to score samples.
//
// Pixels p in 0..255 become x = p / 127.5 - 1 in [-1, 1]; with the training images' mean m and
// the d leading eigenvectors U (pixels x d) of their covariance, an image is the coefficient
// vector c = U^T (x - m) and is drawn back as m + U c. The principal components are those of at
// most kPcaImages training images (the first ones), which fixes them at any train_images.
//
// Scoring (what FID does with Inception features, here with a fixed random layer so that nothing
// has to be trained or downloaded): features f(c) = tanh(W (m + U c) + b), W (F x pixels) with
// entries N(0, 1 / pixels) and b uniform in [-0.5, 0.5] from `feature_seed`; the reference
// moments are those of the test images' features, each test image projected as above, so that
// the truncation to d components is not counted as a sampling error. The mode-sensitive metrics
// use one Gaussian per class (the labels), fitted to the training coefficients, weighted by the
// class shares: a GaussianMixture.
//
// Files are read through evaluators/common/idx_images.h: regular files only (no FIFOs or
// devices), plain or gzip, with every size in their headers bounded before anything is allocated
// (kMaxIdxImages images of at most kMaxIdxPixels pixels, and no more than the file holds).
//
// Thread-safety: immutable after construction; every method is const and safe to call
// concurrently.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "evaluators/common/idx_images.h"
#include "evaluators/diffusion/gaussian_mixture.h"
#include "evaluators/diffusion/sample_metrics.h"
#include "evolv/v1/diffusion.pb.h"
#include "search/rng.h"

namespace evolv {

inline constexpr char kDefaultImageDirectory[] = "/usr/share/datasets/fashion-mnist";
inline constexpr int kDefaultImageDimension = 32;
inline constexpr int kMaxImageDimension = 128;
inline constexpr int kDefaultImageFeatures = 64;
inline constexpr int kMaxImageFeatures = 256;
inline constexpr int kMinTrainImages = 1000;
inline constexpr int kMaxIdxImages = 100000;
inline constexpr int kPcaImages = 10000;

class ImageData {
 public:
  // Reads the dataset the spec names and computes the projection, features and class model.
  // InvalidArgument whose message starts with the field path ("diffusion.images.directory: ...",
  // "diffusion.images.dimension: ...").
  static absl::StatusOr<std::unique_ptr<ImageData>> FromSpec(const v1::ImageDataSpec& spec);
  // The spec with defaults filled in (directory, dimension, features; train_images as used).
  static v1::ImageDataSpec Normalized(const v1::ImageDataSpec& spec);

  const v1::ImageDataSpec& spec() const { return spec_; }  // normalized
  int dimension() const { return static_cast<int>(basis_.cols()); }
  int rows() const { return rows_; }
  int cols() const { return cols_; }
  int train_images() const { return static_cast<int>(train_.cols()); }
  int test_images() const { return test_images_; }
  // Share of the training images' variance the d components keep.
  double variance_kept() const { return variance_kept_; }
  // hex xxh3-128 of the four files' content and the normalized spec (without the directory):
  // what a model trained on this data must carry.
  const std::string& fingerprint() const { return fingerprint_; }

  // n training images' coefficients (d x n), drawn with replacement.
  Eigen::MatrixXd Sample(int n, Rng& rng) const;
  // The training coefficients' covariance trace / d (the data scale a denoiser is conditioned on).
  double MeanVariance() const { return mean_variance_; }
  // One Gaussian per class, fitted to the training coefficients.
  const GaussianMixture& classes() const { return *classes_; }
  // f(c) for each column of `coefficients` (d x n): F x n.
  Eigen::MatrixXd Features(const Eigen::MatrixXd& coefficients) const;
  // The test images' feature moments.
  const ExactMoments& feature_moments() const { return *feature_moments_; }
  // Column `j` of `coefficients` as an image, row-major gray bytes (rows x cols), clamped.
  std::vector<uint8_t> Image(const Eigen::MatrixXd& coefficients, Eigen::Index j) const;

 private:
  ImageData() = default;

  v1::ImageDataSpec spec_;
  int rows_ = 0;
  int cols_ = 0;
  int test_images_ = 0;
  double variance_kept_ = 0;
  double mean_variance_ = 0;
  std::string fingerprint_;
  Eigen::VectorXd mean_;          // pixels
  Eigen::MatrixXd basis_;         // pixels x d, orthonormal columns
  Eigen::MatrixXd train_;         // d x n training coefficients
  Eigen::MatrixXd feature_map_;   // F x d: W U
  Eigen::VectorXd feature_bias_;  // F: W m + b
  std::unique_ptr<GaussianMixture> classes_;
  std::unique_ptr<ExactMoments> feature_moments_;
};

}  // namespace evolv
