// Image data for the diffusion domain (its idx files read by evaluators/common/idx_images.h):
// the principal-component projection, the class model and features, the fingerprint a model
// carries, and the diffusion problem on images (a learned denoiser, FD on features, figures).
#include "evaluators/diffusion/image_data.h"

#include <gtest/gtest.h>
#include <png.h>

#include <filesystem>

#include "evaluators/diffusion/diffusion_problem.h"
#include "evaluators/diffusion/learned_denoiser.h"
#include "tests/support/idx_files.h"
#include "tests/support/temp_dir.h"

namespace evolv {
namespace {

constexpr int kSide = 8;  // synthetic images are 8 x 8

v1::ImageDataSpec SyntheticSpec(const std::string& dir, int dimension = 8) {
  v1::ImageDataSpec spec;
  spec.set_directory(dir);
  spec.set_dimension(dimension);
  spec.set_features(16);
  return spec;
}

TEST(ImageDataTest, ProjectsOnPrincipalComponentsThatReconstructTheImages) {
  TempDir dir;
  WriteSyntheticDataset(dir.path(), 1200, 300);
  auto small = ImageData::FromSpec(SyntheticSpec(dir.path(), 4));
  auto all = ImageData::FromSpec(SyntheticSpec(dir.path(), kSide * kSide));
  ASSERT_TRUE(small.ok()) << small.status();
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ((*small)->dimension(), 4);
  EXPECT_EQ((*small)->rows(), kSide);
  EXPECT_EQ((*small)->train_images(), 1200);
  EXPECT_EQ((*small)->test_images(), 300);
  EXPECT_GT((*small)->variance_kept(), 0.05);
  EXPECT_LT((*small)->variance_kept(), (*all)->variance_kept());
  EXPECT_NEAR((*all)->variance_kept(), 1.0, 1e-9);

  // With every component kept, a sampled training image comes back as it was (to a gray level).
  auto train = ReadIdxImages(dir.path() + "/train-images-idx3-ubyte.gz", 10000, "f");
  ASSERT_TRUE(train.ok());
  Rng rng(3);
  const Eigen::MatrixXd x = (*all)->Sample(5, rng);
  for (int j = 0; j < 5; ++j) {
    const std::vector<uint8_t> image = (*all)->Image(x, j);
    bool found = false;
    for (int i = 0; i < train->count && !found; ++i) {
      found = true;
      for (int p = 0; p < kSide * kSide && found; ++p) {
        found = std::abs(int{image[p]} - int{train->pixels[i * kSide * kSide + p]}) <= 1;
      }
    }
    EXPECT_TRUE(found) << "sample " << j << " is no training image";
  }
}

TEST(ImageDataTest, FitsOneGaussianPerClassAndScoresRealImagesNearTheFloor) {
  TempDir dir;
  WriteSyntheticDataset(dir.path(), 1500, 600);
  auto data = ImageData::FromSpec(SyntheticSpec(dir.path()));
  ASSERT_TRUE(data.ok()) << data.status();
  const GaussianMixture& classes = (*data)->classes();
  ASSERT_EQ(classes.components().size(), 3u);
  for (const auto& c : classes.components()) EXPECT_NEAR(c.weight, 1.0 / 3, 0.05);
  // Training images score close to the test images' feature moments; pure noise does not.
  Rng rng(4);
  const Eigen::MatrixXd real = (*data)->Sample(600, rng);
  Eigen::MatrixXd noise(real.rows(), real.cols());
  for (Eigen::Index i = 0; i < noise.size(); ++i) noise(i) = 3 * rng.Normal();
  const double fd_real = (*data)->feature_moments().FrechetDistance((*data)->Features(real));
  const double fd_noise = (*data)->feature_moments().FrechetDistance((*data)->Features(noise));
  EXPECT_GT(fd_noise, 20 * fd_real) << fd_real << " vs " << fd_noise;
  EXPECT_EQ((*data)->Features(real).rows(), 16);
}

TEST(ImageDataTest, FingerprintFollowsTheFilesNotTheirDirectory) {
  TempDir a, b, c;
  WriteSyntheticDataset(a.path(), 1000, 100, 7);
  WriteSyntheticDataset(b.path(), 1000, 100, 7);
  WriteSyntheticDataset(c.path(), 1000, 100, 8);
  auto x = ImageData::FromSpec(SyntheticSpec(a.path()));
  auto y = ImageData::FromSpec(SyntheticSpec(b.path()));
  auto z = ImageData::FromSpec(SyntheticSpec(c.path()));
  ASSERT_TRUE(x.ok() && y.ok() && z.ok());
  EXPECT_EQ((*x)->fingerprint(), (*y)->fingerprint());
  EXPECT_NE((*x)->fingerprint(), (*z)->fingerprint());
  auto other_features = SyntheticSpec(a.path());
  other_features.set_feature_seed(9);
  auto w = ImageData::FromSpec(other_features);
  ASSERT_TRUE(w.ok());
  EXPECT_NE((*x)->fingerprint(), (*w)->fingerprint());
}

TEST(ImageDataTest, BadFieldsAreNamed) {
  TempDir dir;
  WriteSyntheticDataset(dir.path(), 1000, 100);
  auto refused = [&](v1::ImageDataSpec spec) {
    auto data = ImageData::FromSpec(spec);
    EXPECT_FALSE(data.ok());
    EXPECT_EQ(data.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(data.status().message());
  };
  auto spec = SyntheticSpec(dir.path());
  spec.set_dimension(129);
  EXPECT_EQ(refused(spec).rfind("diffusion.images.dimension: 129 exceeds the limit 128", 0), 0u);
  spec.set_dimension(65);
  EXPECT_EQ(refused(spec).rfind("diffusion.images.dimension: 65 exceeds the images' 64", 0), 0u);
  spec = SyntheticSpec(dir.path());
  spec.set_features(1000);
  EXPECT_EQ(refused(spec).rfind("diffusion.images.features: 1000 exceeds", 0), 0u);
  spec = SyntheticSpec(dir.path());
  spec.set_train_images(10);
  EXPECT_EQ(refused(spec).rfind("diffusion.images.train_images: 10 is below the minimum", 0), 0u);
  spec.set_train_images(5000);
  EXPECT_EQ(refused(spec).rfind("diffusion.images.train_images: 5000 exceeds the 1000", 0), 0u);
  spec = SyntheticSpec(dir.Sub("nowhere"));
  EXPECT_EQ(refused(spec).rfind("diffusion.images.directory: '", 0), 0u);
  std::filesystem::remove(dir.path() + "/t10k-labels-idx1-ubyte");
  EXPECT_NE(refused(SyntheticSpec(dir.path())).find("t10k-labels-idx1-ubyte"), std::string::npos);
}

// The diffusion problem on images: a tiny denoiser trained on the synthetic images.
class ImageDiffusionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteSyntheticDataset(data_.path(), 1000, 200);
    spec_.set_steps(4);
    spec_.set_samples(100);
    *spec_.mutable_images() = SyntheticSpec(data_.path());
    v1::LearnedDenoiserSpec* denoiser = spec_.mutable_denoiser();
    denoiser->set_model(files_.Sub("images.model"));
    denoiser->set_blocks(2);
    denoiser->set_width(16);
    denoiser->set_training_steps(60);
    denoiser->set_batch(32);
    auto model = TrainDenoiser(spec_);
    ASSERT_TRUE(model.ok()) << model.status();
    EXPECT_TRUE(model->has_images());
    EXPECT_FALSE(model->data_fingerprint().empty());
    ASSERT_TRUE(WriteDenoiserModel(*model, denoiser->model()).ok());
  }

  TempDir data_, files_;
  v1::DiffusionSpec spec_;
};

TEST_F(ImageDiffusionTest, EvaluatesOnFeaturesAndDrawsFigures) {
  auto created = CreateDiffusionProblem(spec_);
  ASSERT_TRUE(created.ok()) << created.status();
  const auto& problem = static_cast<const DiffusionProblem&>(**created);
  ASSERT_NE(problem.images(), nullptr);
  EXPECT_EQ(problem.denoiser().dimension(), 8);
  const v1::Candidate uniform = DiffusionCandidate(UniformSteps(4));
  const v1::Evaluation e = problem.Evaluate(uniform, {});
  ASSERT_EQ(e.status(), v1::OK) << e.error();
  EXPECT_GT(e.objectives(0), problem.noise_floor());
  EXPECT_TRUE(std::isfinite(e.metrics().at("loglik_gap")));
  EXPECT_NE(problem.Report({}).find("images from '" + data_.path() + "'"), std::string::npos);
  ASSERT_EQ(problem.ObjectiveDisplays().size(), 2u);
  EXPECT_EQ(problem.ObjectiveDisplays()[0].label(), "feature FD");
  EXPECT_EQ(problem.ObjectiveDisplays()[1].unit(), "nats");

  v1::HistoryEntry entry;
  *entry.mutable_candidate() = uniform;
  *entry.mutable_evaluation() = e;
  const std::vector<Figure> figures = problem.Figures({entry});
  ASSERT_EQ(figures.size(), 3u);
  EXPECT_EQ(figures[0].name, "data.png");
  EXPECT_EQ(figures[1].name, "samples-uniform.png");
  EXPECT_EQ(figures[2].name, "samples-searched.png");
  for (const Figure& figure : figures) {
    png_image image{};
    image.version = PNG_IMAGE_VERSION;
    ASSERT_TRUE(png_image_begin_read_from_memory(&image, figure.png.data(), figure.png.size()))
        << figure.name;
    // 8 x 8 tiles of 16 x 16 (8 x 8 drawn twice their size), 2-pixel separators.
    EXPECT_EQ(image.width, 8u * 16 + 7 * 2);
    EXPECT_EQ(image.height, 8u * 16 + 7 * 2);
    png_image_free(&image);
  }
}

TEST_F(ImageDiffusionTest, KeysFollowTheDataFilesNotTheirDirectory) {
  TempDir copy;
  for (const auto& file : std::filesystem::directory_iterator(data_.path())) {
    std::filesystem::copy(file.path(), copy.path() + "/" + file.path().filename().string());
  }
  v1::DiffusionSpec moved = spec_;
  moved.mutable_images()->set_directory(copy.path());
  auto a = CreateDiffusionProblem(spec_);
  auto b = CreateDiffusionProblem(moved);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)->CanonicalSpec(), (*b)->CanonicalSpec());
  EXPECT_EQ((*a)->CanonicalSpec().find(data_.path()), std::string::npos);

  // Other images under the same name: the model no longer matches them.
  WriteSyntheticDataset(copy.path(), 1000, 200, 99);
  auto c = CreateDiffusionProblem(moved);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("diffusion.denoiser.model: '"), std::string::npos);
  EXPECT_NE(c.status().message().find("was trained on other data than diffusion.images"),
            std::string::npos)
      << c.status();
}

TEST_F(ImageDiffusionTest, ImagesNeedALearnedDenoiserAndNoMixture) {
  v1::DiffusionSpec spec = spec_;
  spec.clear_denoiser();
  auto created = CreateDiffusionProblem(spec);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().message().rfind("diffusion.denoiser: required with diffusion.images",
                                             0),
            0u);
  spec = spec_;
  spec.mutable_mixture()->set_dimension(8);
  created = CreateDiffusionProblem(spec);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.status().message().rfind("diffusion.images: give either", 0), 0u);

  // A model trained on a mixture of the same dimension is not a model of the images.
  v1::DiffusionSpec mixture = spec_;
  mixture.clear_images();
  mixture.mutable_mixture()->set_dimension(8);
  mixture.mutable_mixture()->set_components(2);
  mixture.mutable_denoiser()->set_model(files_.Sub("mixture.model"));
  auto model = TrainDenoiser(mixture);
  ASSERT_TRUE(model.ok());
  ASSERT_TRUE(WriteDenoiserModel(*model, files_.Sub("mixture.model")).ok());
  spec = spec_;
  spec.mutable_denoiser()->set_model(files_.Sub("mixture.model"));
  created = CreateDiffusionProblem(spec);
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.status().message().find("trained on other data than diffusion.images (a "
                                            "mixture)"),
            std::string::npos)
      << created.status();
  // And the images' model is not a model of that mixture.
  mixture.mutable_denoiser()->set_model(spec_.denoiser().model());
  created = CreateDiffusionProblem(mixture);
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.status().message().find("trained on other data than diffusion.mixture"),
            std::string::npos)
      << created.status();
}

// The real dataset, where Debian's dataset-fashion-mnist is installed (scripts/install-deps).
TEST(FashionMnistTest, ProjectsTheDebianDatasetWithItsTenClasses) {
  if (!std::filesystem::exists(kDefaultImageDirectory)) {
    GTEST_SKIP() << kDefaultImageDirectory << " is not installed";
  }
  v1::ImageDataSpec spec;
  spec.set_train_images(2000);
  auto data = ImageData::FromSpec(spec);
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ((*data)->rows(), 28);
  EXPECT_EQ((*data)->cols(), 28);
  EXPECT_EQ((*data)->dimension(), kDefaultImageDimension);
  EXPECT_EQ((*data)->train_images(), 2000);
  EXPECT_EQ((*data)->test_images(), 10000);
  EXPECT_EQ((*data)->classes().components().size(), 10u);
  // 32 components keep most of the variance of clothing images, not all of it.
  EXPECT_GT((*data)->variance_kept(), 0.7);
  EXPECT_LT((*data)->variance_kept(), 0.95);
  Rng rng(1);
  const double floor =
      (*data)->feature_moments().FrechetDistance((*data)->Features((*data)->Sample(2000, rng)));
  EXPECT_LT(floor, 0.1);
}

}  // namespace
}  // namespace evolv
