#include "evaluators/solver/instance_source.h"

#include <xxhash.h>

#include <cmath>
#include <deque>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "evaluators/solver/distributions.h"
#include "evaluators/solver/omega_star.h"
#include "evaluators/solver/sequences.h"

namespace evolv {

absl::Status SolverFieldError(const std::string& field, const std::string& reason) {
  return absl::InvalidArgumentError(absl::StrCat("solver.", field, ": ", reason));
}

namespace {

constexpr uint32_t kDefaultGrid = 10;
constexpr uint32_t kMaxGrid = 1000;
constexpr uint64_t kMaxInstances = 10000000;
constexpr uint32_t kMaxNx = 1000;
constexpr uint32_t kMaxSteps = 1000000;
constexpr double kDefaultDt = 0.001;

absl::StatusOr<std::shared_ptr<const SolverInstance>> MakeInstance(LinearSystem system) {
  absl::StatusOr<RelaxationSolver> solver = RelaxationSolver::Create(system.a);
  if (!solver.ok()) return solver.status();
  return std::make_shared<const SolverInstance>(SolverInstance{
      *std::move(solver), std::move(system.b), std::move(system.x0), system.context});
}

// Sources shared within the process while any problem holds them, by what they are built from.
template <typename T>
std::shared_ptr<T> Shared(const std::string& key,
                          const std::function<absl::StatusOr<std::shared_ptr<T>>()>& make,
                          absl::Status* status) {
  static std::mutex mutex;
  static std::map<std::string, std::weak_ptr<void>> shared;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = shared.find(key);
  if (it != shared.end()) {
    if (auto held = it->second.lock()) return std::static_pointer_cast<T>(held);
  }
  absl::StatusOr<std::shared_ptr<T>> made = make();
  if (!made.ok()) {
    *status = made.status();
    return nullptr;
  }
  shared[key] = *made;
  return *made;
}

class ShiftedLaplacianSource : public InstanceSource {
 public:
  ShiftedLaplacianSource(const v1::ShiftedLaplacianSource& spec)
      : high_(spec.variance() != v1::ShiftedLaplacianSource::LOW),
        m_(spec.grid() ? static_cast<int>(spec.grid()) : kDefaultGrid),
        instances_(spec.instances()),
        seed_(spec.seed()),
        laplacian_(ShiftedLaplacian(m_, 0.0)) {}

  uint64_t size() const override { return instances_; }
  double Context(uint64_t t) const override {
    Rng rng = InstanceRng(t);
    return DrawShift(rng);
  }
  std::pair<double, double> ContextRange() const override {
    return high_ ? std::make_pair(-0.15, 0.45) : std::make_pair(0.0, 1.0);
  }
  absl::StatusOr<std::shared_ptr<const SolverInstance>> Get(uint64_t t) const override {
    Rng rng = InstanceRng(t);
    LinearSystem system;
    system.context = DrawShift(rng);
    system.a = laplacian_;
    for (int i = 0; i < system.a.outerSize(); ++i) system.a.coeffRef(i, i) += system.context;
    system.b = TruncatedGaussianRhs(m_ * m_, rng);
    return MakeInstance(std::move(system));
  }
  std::string InstanceKey(uint64_t t) const override {
    return absl::StrCat("shifted_laplacian|", high_ ? "high" : "low", "|m=", m_, "|seed=", seed_,
                        "|t=", t);
  }
  std::string Describe() const override {
    return absl::StrFormat("shifted Laplacian (%s variance, %dx%d grid, seed %d)",
                           high_ ? "high" : "low", m_, m_, seed_);
  }
  std::optional<double> JacobiRadius(uint64_t t) const override {
    return ShiftedLaplacianJacobiRadius(m_, Context(t));
  }

 private:
  // Instance t's own stream: the shift first, then b.
  Rng InstanceRng(uint64_t t) const { return Rng(Mix64(Mix64(seed_) + t)); }
  double DrawShift(Rng& rng) const {
    return high_ ? -0.15 + 0.6 * SampleBeta(rng, 0.5, 1.5) : SampleBeta(rng, 2.0, 6.0);
  }

  bool high_;
  int m_;
  uint64_t instances_;
  uint64_t seed_;
  SparseMatrix laplacian_;
};

// The heat equation's states u^0, u^1, ... for one (nx, dt), generated in order on demand.
class HeatStates {
 public:
  HeatStates(int nx, double dt) : sequence_(nx, kMaxSteps, dt) {}

  // u^t (the warm start and rhs source of step t), generating the states up to it.
  Eigen::VectorXd State(uint64_t t) {
    std::lock_guard<std::mutex> lock(mutex_);
    while (states_.size() <= t) {
      absl::StatusOr<LinearSystem> system = sequence_.Next();  // never fails below kMaxSteps
      states_.push_back(std::move(system->x0));
    }
    return states_[t];
  }
  LinearSystem SystemAt(uint64_t t, const Eigen::VectorXd& u) const {
    return sequence_.SystemAt(static_cast<int>(t), u);  // reads only immutable members
  }
  double Kappa(uint64_t t) const { return sequence_.StepKappa(static_cast<int>(t)); }

 private:
  std::mutex mutex_;
  HeatEquationSequence sequence_;
  std::deque<Eigen::VectorXd> states_;
};

class HeatSource : public InstanceSource {
 public:
  HeatSource(int nx, uint64_t steps, double dt, std::shared_ptr<HeatStates> states)
      : nx_(nx), steps_(steps), dt_(dt), states_(std::move(states)) {}

  uint64_t size() const override { return steps_; }
  double Context(uint64_t t) const override { return states_->Kappa(t); }
  std::pair<double, double> ContextRange() const override { return {0.0, 10.0}; }
  absl::StatusOr<std::shared_ptr<const SolverInstance>> Get(uint64_t t) const override {
    return MakeInstance(states_->SystemAt(t, states_->State(t)));
  }
  std::string InstanceKey(uint64_t t) const override {
    return absl::StrFormat("heat|nx=%d|dt=%.17g|t=%d", nx_, dt_, t);
  }
  std::string Describe() const override {
    return absl::StrFormat("heat equation (Crank-Nicolson, nx %d, dt %g, %d steps)", nx_, dt_,
                           steps_);
  }

 private:
  int nx_;
  uint64_t steps_;
  double dt_;
  std::shared_ptr<HeatStates> states_;
};

class MatrixMarketSource : public InstanceSource {
 public:
  static absl::StatusOr<std::shared_ptr<MatrixMarketSource>> Open(const std::string& dir,
                                                                  uint64_t seed) {
    const std::string field = "matrix_market.dir";
    auto sequence = MatrixMarketSequence::Create(dir, seed);
    if (!sequence.ok()) return SolverFieldError(field, std::string(sequence.status().message()));
    auto source = std::shared_ptr<MatrixMarketSource>(new MatrixMarketSource);
    source->dir_ = dir;
    source->range_ = (*sequence)->ContextRange();
    for (size_t i = 0; !(*sequence)->Done(); ++i) {
      absl::StatusOr<LinearSystem> system = (*sequence)->Next();
      if (!system.ok()) return SolverFieldError(field, std::string(system.status().message()));
      // The instance's own content (A, b, its context), not its path, is its identity.
      XXH3_state_t* hash = XXH3_createState();
      XXH3_128bits_reset(hash);
      const SparseMatrix& a = system->a;
      const int64_t shape[2] = {a.rows(), a.cols()};
      XXH3_128bits_update(hash, shape, sizeof(shape));
      XXH3_128bits_update(hash, a.outerIndexPtr(), sizeof(int) * (a.outerSize() + 1));
      XXH3_128bits_update(hash, a.innerIndexPtr(), sizeof(int) * a.nonZeros());
      XXH3_128bits_update(hash, a.valuePtr(), sizeof(double) * a.nonZeros());
      XXH3_128bits_update(hash, system->b.data(), sizeof(double) * system->b.size());
      XXH3_128bits_update(hash, &system->context, sizeof(double));
      const XXH128_hash_t h = XXH3_128bits_digest(hash);
      XXH3_freeState(hash);
      source->content_keys_.push_back(
          absl::StrFormat("matrix_market|%016x%016x", h.high64, h.low64));
      auto instance = MakeInstance(*std::move(system));
      if (!instance.ok()) {
        return SolverFieldError(
            field, absl::StrCat((*sequence)->matrix_path(i), ": ", instance.status().message()));
      }
      source->instances_.push_back(*std::move(instance));
    }
    return source;
  }

  uint64_t size() const override { return instances_.size(); }
  double Context(uint64_t t) const override { return instances_[t]->context; }
  std::pair<double, double> ContextRange() const override { return range_; }
  absl::StatusOr<std::shared_ptr<const SolverInstance>> Get(uint64_t t) const override {
    return instances_[t];
  }
  std::string InstanceKey(uint64_t t) const override { return content_keys_[t]; }
  std::string Describe() const override {
    return absl::StrFormat("Matrix Market directory %s (%d instances)", dir_, instances_.size());
  }

 private:
  MatrixMarketSource() = default;

  std::string dir_;
  std::pair<double, double> range_;
  std::vector<std::shared_ptr<const SolverInstance>> instances_;
  std::vector<std::string> content_keys_;  // InstanceKey per instance
};

}  // namespace

absl::StatusOr<std::shared_ptr<const InstanceSource>> OpenInstanceSource(
    const v1::SolverSpec& spec) {
  switch (spec.source_case()) {
    case v1::SolverSpec::kShiftedLaplacian: {
      const auto& s = spec.shifted_laplacian();
      if (!v1::ShiftedLaplacianSource::Variance_IsValid(s.variance())) {
        return SolverFieldError("shifted_laplacian.variance", "unknown value");
      }
      if (s.grid() > kMaxGrid) {
        return SolverFieldError("shifted_laplacian.grid",
                                absl::StrCat(s.grid(), " exceeds the limit ", kMaxGrid));
      }
      if (s.instances() == 0)
        return SolverFieldError("shifted_laplacian.instances", "must be >= 1");
      if (s.instances() > kMaxInstances) {
        return SolverFieldError("shifted_laplacian.instances",
                                absl::StrCat(s.instances(), " exceeds the limit ", kMaxInstances));
      }
      return std::make_shared<const ShiftedLaplacianSource>(s);
    }
    case v1::SolverSpec::kHeat: {
      const auto& h = spec.heat();
      if (h.nx() == 0) return SolverFieldError("heat.nx", "must be >= 1");
      if (h.nx() > kMaxNx) {
        return SolverFieldError("heat.nx", absl::StrCat(h.nx(), " exceeds the limit ", kMaxNx));
      }
      if (h.steps() == 0) return SolverFieldError("heat.steps", "must be >= 1");
      if (h.steps() > kMaxSteps) {
        return SolverFieldError("heat.steps",
                                absl::StrCat(h.steps(), " exceeds the limit ", kMaxSteps));
      }
      if (!(std::isfinite(h.dt()) && h.dt() >= 0 && h.dt() <= 1)) {
        return SolverFieldError("heat.dt", "must be in (0, 1] (0 means 0.001)");
      }
      const double dt = h.dt() > 0 ? h.dt() : kDefaultDt;
      const int nx = static_cast<int>(h.nx());
      absl::Status status;
      auto states = Shared<HeatStates>(
          absl::StrFormat("heat|%d|%.17g", nx, dt),
          [&]() -> absl::StatusOr<std::shared_ptr<HeatStates>> {
            return std::make_shared<HeatStates>(nx, dt);
          },
          &status);
      return std::make_shared<const HeatSource>(nx, h.steps(), dt, std::move(states));
    }
    case v1::SolverSpec::kMatrixMarket: {
      const auto& m = spec.matrix_market();
      if (m.dir().empty()) return SolverFieldError("matrix_market.dir", "required");
      absl::Status status;
      auto source = Shared<MatrixMarketSource>(
          absl::StrCat("matrix_market|", m.dir(), "|", m.seed()),
          [&] { return MatrixMarketSource::Open(m.dir(), m.seed()); }, &status);
      if (!source) return status;
      return std::shared_ptr<const InstanceSource>(std::move(source));
    }
    case v1::SolverSpec::SOURCE_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(
      "solver.source: set one of shifted_laplacian, heat, matrix_market");
}

}  // namespace evolv
