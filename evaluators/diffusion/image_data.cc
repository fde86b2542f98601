#include "evaluators/diffusion/image_data.h"

#include <sys/stat.h>
#include <xxhash.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace evolv {
namespace {

constexpr int kCoefficientChunk = 4096;

absl::Status ImagesFieldError(const std::string& field, const std::string& reason) {
  return absl::InvalidArgumentError(absl::StrCat("diffusion.images.", field, ": ", reason));
}

// Fixes the sign of each column so that its largest entry in magnitude is positive: the
// eigenvectors' signs are arbitrary, the projection must not be.
void FixSigns(Eigen::MatrixXd* basis) {
  for (Eigen::Index j = 0; j < basis->cols(); ++j) {
    Eigen::Index at = 0;
    basis->col(j).cwiseAbs().maxCoeff(&at);
    if ((*basis)(at, j) < 0) basis->col(j) *= -1;
  }
}

}  // namespace

v1::ImageDataSpec ImageData::Normalized(const v1::ImageDataSpec& spec) {
  v1::ImageDataSpec s = spec;
  if (s.directory().empty()) s.set_directory(kDefaultImageDirectory);
  if (s.dimension() == 0) s.set_dimension(kDefaultImageDimension);
  if (s.features() == 0) s.set_features(kDefaultImageFeatures);
  return s;
}

absl::StatusOr<std::unique_ptr<ImageData>> ImageData::FromSpec(const v1::ImageDataSpec& raw) {
  const v1::ImageDataSpec spec = Normalized(raw);
  if (spec.dimension() > static_cast<uint32_t>(kMaxImageDimension)) {
    return ImagesFieldError("dimension", absl::StrCat(spec.dimension(), " exceeds the limit ",
                                                      kMaxImageDimension));
  }
  if (spec.features() > static_cast<uint32_t>(kMaxImageFeatures)) {
    return ImagesFieldError(
        "features", absl::StrCat(spec.features(), " exceeds the limit ", kMaxImageFeatures));
  }
  if (spec.train_images() != 0 && spec.train_images() < static_cast<uint32_t>(kMinTrainImages)) {
    return ImagesFieldError("train_images", absl::StrCat(spec.train_images(),
                                                         " is below the minimum ",
                                                         kMinTrainImages));
  }
  if (spec.train_images() > static_cast<uint32_t>(kMaxIdxImages)) {
    return ImagesFieldError("train_images", absl::StrCat(spec.train_images(),
                                                         " exceeds the limit ", kMaxIdxImages));
  }
  struct stat st;
  if (stat(spec.directory().c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return ImagesFieldError(
        "directory",
        absl::StrCat("'", spec.directory(), "' is not a directory",
                     raw.directory().empty()
                         ? " (install Debian's dataset-fashion-mnist, or name a directory)"
                         : ""));
  }
  auto dataset = ReadIdxDataset(spec.directory(), kMaxIdxImages, "diffusion.images.directory");
  if (!dataset.ok()) return dataset.status();
  // The four files' hashes, in this order: training images and labels, test images and labels.
  const uint64_t hashes[4] = {dataset->train_images.hash, dataset->train_labels.hash,
                              dataset->test_images.hash, dataset->test_labels.hash};
  const IdxImages* train = &dataset->train_images;
  const IdxLabels* train_labels = &dataset->train_labels;
  const IdxImages* test = &dataset->test_images;
  const int pixels = train->rows * train->cols;
  const int d = static_cast<int>(spec.dimension());
  if (d > pixels) {
    return ImagesFieldError("dimension",
                            absl::StrCat(d, " exceeds the images' ", pixels, " pixels"));
  }
  const int n = spec.train_images() ? static_cast<int>(spec.train_images()) : train->count;
  if (n > train->count) {
    return ImagesFieldError("train_images",
                            absl::StrCat(n, " exceeds the ", train->count, " training images"));
  }
  if (n < kMinTrainImages) {
    return ImagesFieldError("directory", absl::StrCat("holds ", train->count,
                                                      " training images; at least ",
                                                      kMinTrainImages, " are needed"));
  }
  auto data = std::unique_ptr<ImageData>(new ImageData);
  data->spec_ = spec;
  data->spec_.set_train_images(static_cast<uint32_t>(n));
  data->rows_ = train->rows;
  data->cols_ = train->cols;
  data->test_images_ = test->count;

  auto pixel_block = [pixels](const IdxImages& images, int first, int count) {
    Eigen::MatrixXf block(pixels, count);
    for (int j = 0; j < count; ++j) {
      const uint8_t* p = images.pixels.data() + static_cast<size_t>(first + j) * pixels;
      for (int i = 0; i < pixels; ++i) block(i, j) = p[i] / 127.5f - 1.0f;
    }
    return block;
  };
  // Principal components of the first kPcaImages training images (float products, double
  // eigen-decomposition).
  const int pca_n = std::min(n, kPcaImages);
  Eigen::MatrixXf pca = pixel_block(*train, 0, pca_n);
  const Eigen::VectorXf mean = pca.rowwise().mean();
  pca.colwise() -= mean;
  const Eigen::MatrixXd covariance =
      (pca * pca.transpose()).cast<double>() / static_cast<double>(pca_n - 1);
  pca.resize(0, 0);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eigen(covariance);
  data->mean_ = mean.cast<double>();
  data->basis_ = eigen.eigenvectors().rightCols(d).rowwise().reverse();
  FixSigns(&data->basis_);
  const double total = eigen.eigenvalues().cwiseMax(0.0).sum();
  data->variance_kept_ =
      total > 0 ? eigen.eigenvalues().tail(d).cwiseMax(0.0).sum() / total : 0.0;

  const Eigen::MatrixXf basis_t = data->basis_.transpose().cast<float>();
  auto project = [&](const IdxImages& images, int count) {
    Eigen::MatrixXd coefficients(d, count);
    for (int first = 0; first < count; first += kCoefficientChunk) {
      const int m = std::min(kCoefficientChunk, count - first);
      Eigen::MatrixXf block = pixel_block(images, first, m);
      block.colwise() -= mean;
      coefficients.middleCols(first, m) = (basis_t * block).cast<double>();
    }
    return coefficients;
  };
  data->train_ = project(*train, n);
  const Eigen::MatrixXd test_coefficients = project(*test, test->count);
  {
    const Eigen::MatrixXd centered = data->train_.colwise() - data->train_.rowwise().mean();
    data->mean_variance_ = centered.squaredNorm() / static_cast<double>(n - 1) / d;
  }

  // One Gaussian per class present in the training labels.
  int classes = 0;
  for (int j = 0; j < n; ++j) classes = std::max(classes, train_labels->labels[j] + 1);
  if (classes > kMaxMixtureComponents) {
    return ImagesFieldError("directory", absl::StrCat("the labels name ", classes,
                                                      " classes; the limit is ",
                                                      kMaxMixtureComponents));
  }
  std::vector<GaussianComponentModel> components;
  const double ridge = 1e-3 * data->mean_variance_;
  for (int c = 0; c < classes; ++c) {
    std::vector<int> members;
    for (int j = 0; j < n; ++j) {
      if (train_labels->labels[j] == c) members.push_back(j);
    }
    if (members.size() < 2) continue;
    Eigen::MatrixXd x(d, members.size());
    for (size_t k = 0; k < members.size(); ++k) x.col(k) = data->train_.col(members[k]);
    const Eigen::VectorXd m = x.rowwise().mean();
    x.colwise() -= m;
    Eigen::MatrixXd cov = x * x.transpose() / static_cast<double>(members.size() - 1);
    cov.diagonal().array() += ridge;
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> e(cov);
    GaussianComponentModel component;
    component.weight = static_cast<double>(members.size()) / n;
    component.mean = m;
    component.rotation = e.eigenvectors();
    component.variances = e.eigenvalues().cwiseMax(ridge);
    components.push_back(std::move(component));
  }
  if (components.empty()) return ImagesFieldError("directory", "no class has two images");
  double weights = 0;
  for (const auto& c : components) weights += c.weight;
  for (auto& c : components) c.weight /= weights;
  data->classes_ = std::make_unique<GaussianMixture>(std::move(components));

  // The random feature layer, folded through the projection.
  const int f = static_cast<int>(spec.features());
  Rng rng(Mix64(spec.feature_seed() ^ 0x6665617475726573ULL));
  Eigen::MatrixXd w(f, pixels);
  const double scale = 1.0 / std::sqrt(static_cast<double>(pixels));
  for (int i = 0; i < f; ++i) {
    for (int j = 0; j < pixels; ++j) w(i, j) = scale * rng.Normal();
  }
  Eigen::VectorXd b(f);
  for (int i = 0; i < f; ++i) b[i] = rng.Uniform(-0.5, 0.5);
  data->feature_map_ = w * data->basis_;
  data->feature_bias_ = w * data->mean_ + b;
  const Eigen::MatrixXd test_features = data->Features(test_coefficients);
  const Eigen::VectorXd feature_mean = test_features.rowwise().mean();
  const Eigen::MatrixXd centered = test_features.colwise() - feature_mean;
  data->feature_moments_ = std::make_unique<ExactMoments>(
      feature_mean, centered * centered.transpose() / static_cast<double>(test->count - 1));

  v1::ImageDataSpec identity = data->spec_;
  identity.clear_directory();
  std::string bytes;
  identity.SerializeToString(&bytes);
  bytes.append(reinterpret_cast<const char*>(hashes), sizeof(hashes));
  const XXH128_hash_t h = XXH3_128bits(bytes.data(), bytes.size());
  data->fingerprint_ = absl::StrFormat("%016x%016x", h.high64, h.low64);
  return data;
}

Eigen::MatrixXd ImageData::Sample(int n, Rng& rng) const {
  Eigen::MatrixXd x(dimension(), n);
  for (int j = 0; j < n; ++j) x.col(j) = train_.col(static_cast<Eigen::Index>(rng.Below(train_.cols())));
  return x;
}

Eigen::MatrixXd ImageData::Features(const Eigen::MatrixXd& coefficients) const {
  return ((feature_map_ * coefficients).colwise() + feature_bias_).array().tanh().matrix();
}

std::vector<uint8_t> ImageData::Image(const Eigen::MatrixXd& coefficients, Eigen::Index j) const {
  const Eigen::VectorXd x = mean_ + basis_ * coefficients.col(j);
  std::vector<uint8_t> out(x.size());
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    const double v = std::isfinite(x[i]) ? (x[i] + 1) * 127.5 : 0.0;
    out[i] = static_cast<uint8_t>(std::lround(std::clamp(v, 0.0, 255.0)));
  }
  return out;
}

}  // namespace evolv
