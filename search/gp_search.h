// Bayesian optimization with a Gaussian process: the model-based strategy, and the default for a
// problem that is a box of parameters (Problem::AsParameterSpace, a study) with one objective.
//
// The model: a Gaussian process over the points told so far in unit coordinates
// (search/parameter_space.h; a categorical parameter of at most 16 choices one-hot, a larger one
// as its bin position), Matern 5/2 kernel with a length scale per parameter, a signal variance
// and a noise variance, fitted by maximizing the log marginal likelihood (Adam on its analytic
// gradient, warm-started from the previous fit). It models the first objective after a
// monotone warp: log(y - min y + delta), delta a tenth of the gap from the minimum to the median,
// standardized; a failed or infeasible trial counts as the worst value seen.
//
// The next candidate maximizes the expected improvement over the best warped value, searched
// among random points and Gaussian steps around the best points, then refined around the best
// few. Candidates asked and not yet told (the job's window) enter the model at the mean warped
// value (a constant liar), so a window of W asks W different points. A point equal to one
// already told is skipped for the next best. The first `initial_random` candidates are the
// problem's seeds and random draws, as are those asked before two results are told.
//
// Determinism: candidate k's random draws come from a stream of its own (the strategy's seed
// and k), and the model is a function of the points told and pending; the snapshot holds
// them and the last fit, so a resumed job asks what it would have. Memory and time are bounded
// by max_model_points (default 400): beyond it the model keeps the best half and the latest
// half of the points told, and forgets the rest, which could never re-enter either half.
#pragma once

#include <map>
#include <vector>

#include "search/parameter_space.h"
#include "search/strategy.h"

namespace evolv {

class GpSearch : public Strategy {
 public:
  // `problem` must be a parameter space (AsParameterSpace() != nullptr).
  GpSearch(const v1::GpSearchConfig& config, const Problem& problem, uint64_t seed);

  v1::Candidate Ask(uint64_t index) override;
  void Tell(uint64_t index, const v1::Candidate& candidate,
            const v1::Evaluation& evaluation) override;
  v1::StrategySnapshot Snapshot() const override;
  absl::Status Restore(const v1::StrategySnapshot& snapshot) override;

 private:
  struct Told {
    uint64_t index = 0;
    std::vector<double> point;
    double value = 0;  // +inf: failed or infeasible
  };

  // The candidate the model proposes for ask `k`.
  v1::Candidate Propose(uint64_t k);
  // Keeps the best half and the latest half of the points told, at most max_points_.
  void Forget();

  const Problem& problem_;
  const ParameterSpace& space_;
  std::vector<ParameterSpace::Dimension> dimensions_;
  uint64_t seed_;
  uint32_t initial_random_;
  uint32_t max_points_;
  std::vector<v1::Candidate> seeds_;  // the problem's

  uint64_t asked_ = 0;
  std::vector<Told> told_;                           // index order
  std::map<uint64_t, std::vector<double>> pending_;  // asked, not told
  std::vector<double> hyperparameters_;              // empty before the first fit
};

// Limits of GpSearchConfig (docs/limits.md).
inline constexpr uint32_t kGpMaxInitialRandom = 10000;
inline constexpr uint32_t kGpMaxModelPoints = 1000;

}  // namespace evolv
