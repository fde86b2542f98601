#include "search/problem.h"

#include <algorithm>
#include <cmath>

namespace evolv {

Problem::HitDifference Problem::CompareHit(const v1::Evaluation& cached,
                                           const v1::Evaluation& fresh) const {
  HitDifference d;
  if (cached.status() != fresh.status() || cached.objectives_size() != fresh.objectives_size()) {
    d.difference = INFINITY;
    d.within = false;
    return d;
  }
  for (int i = 0; i < cached.objectives_size(); ++i) {
    const double x = cached.objectives(i), y = fresh.objectives(i);
    if (x == y || (std::isnan(x) && std::isnan(y))) continue;
    const double gap = std::abs(x - y) / std::max(std::abs(x), std::abs(y));
    d.difference = std::max(d.difference, std::isnan(gap) ? INFINITY : gap);
  }
  d.within = d.difference <= 1e-9;
  return d;
}

}  // namespace evolv
