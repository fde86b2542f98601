// A problem whose candidates are points of a box of parameters, each real, integer or
// categorical (a study): what the model-based strategy (search/gp_search.h) needs to place a
// candidate in a space it can model, and to turn a point of that space back into a candidate.
//
// Unit coordinates: each parameter at fraction u in [0, 1] of its range (in log space where the
// parameter is on a log scale); a range of n integers, grid points or choices is n equal bins,
// and a candidate's coordinate is the centre of its bin (choice k of n: (k + 0.5) / n).
//
// Thread-safety: const methods, safe to call concurrently.
#pragma once

#include <vector>

#include "evolv/v1/job.pb.h"

namespace evolv {

class ParameterSpace {
 public:
  enum class Kind { kReal, kInteger, kCategorical };
  struct Dimension {
    Kind kind = Kind::kReal;
    int choices = 0;  // categorical: how many
  };

  virtual ~ParameterSpace() = default;
  virtual std::vector<Dimension> Dimensions() const = 0;
  // The candidate at `point` (one unit coordinate per dimension, clamped to [0, 1]), canonical
  // as the problem makes its candidates.
  virtual v1::Candidate FromUnit(const std::vector<double>& point) const = 0;
  // The unit coordinates of `candidate`; empty when it is not a point of this space.
  virtual std::vector<double> ToUnit(const v1::Candidate& candidate) const = 0;
};

}  // namespace evolv
