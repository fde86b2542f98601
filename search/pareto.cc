#include "search/pareto.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>

namespace evolv {
namespace {

// NaN is mapped to +inf so that it is dominated by everything finite.
double Sanitize(double v) { return std::isnan(v) ? std::numeric_limits<double>::infinity() : v; }

enum class Dominance { kNeither, kFirst, kSecond };

// Which of `a` and `b` (`a_size` and `b_size` objectives) dominates the other, over the
// objectives both have.
Dominance DominanceOf(const double* a, size_t a_size, const double* b, size_t b_size) {
  bool a_better = false;
  bool b_better = false;
  const size_t n = std::min(a_size, b_size);
  for (size_t i = 0; i < n; ++i) {
    const double x = Sanitize(a[i]);
    const double y = Sanitize(b[i]);
    if (x < y) {
      a_better = true;
    } else if (y < x) {
      b_better = true;
    }
    if (a_better && b_better) return Dominance::kNeither;
  }
  if (a_better == b_better) return Dominance::kNeither;
  return a_better ? Dominance::kFirst : Dominance::kSecond;
}

}  // namespace

bool Dominates(const Objectives& a, const Objectives& b) {
  return DominanceOf(a.data(), a.size(), b.data(), b.size()) == Dominance::kFirst;
}

std::vector<std::vector<size_t>> PairwiseNondominatedSort(const std::vector<Objectives>& points) {
  const size_t n = points.size();
  // The objectives side by side: point p's are values[start[p]] .. values[start[p + 1] - 1].
  std::vector<size_t> start(n + 1, 0);
  for (size_t p = 0; p < n; ++p) start[p + 1] = start[p] + points[p].size();
  std::vector<double> values;
  values.reserve(start[n]);
  for (const Objectives& point : points) values.insert(values.end(), point.begin(), point.end());
  auto objectives = [&](size_t p) { return values.data() + start[p]; };
  auto size = [&](size_t p) { return start[p + 1] - start[p]; };

  // Whom each point dominates (as 32-bit indices: a pool is far below 2^32 points).
  std::vector<std::vector<uint32_t>> dominated_by(n);
  std::vector<size_t> domination_count(n, 0);
  for (size_t p = 0; p < n; ++p) {
    for (size_t q = p + 1; q < n; ++q) {
      switch (DominanceOf(objectives(p), size(p), objectives(q), size(q))) {
        case Dominance::kFirst:
          dominated_by[p].push_back(static_cast<uint32_t>(q));
          ++domination_count[q];
          break;
        case Dominance::kSecond:
          dominated_by[q].push_back(static_cast<uint32_t>(p));
          ++domination_count[p];
          break;
        case Dominance::kNeither:
          break;
      }
    }
  }

  std::vector<std::vector<size_t>> fronts(1);
  for (size_t p = 0; p < n; ++p) {
    if (domination_count[p] == 0) fronts[0].push_back(p);
  }
  while (!fronts.back().empty()) {
    std::vector<size_t> next;
    for (size_t p : fronts.back()) {
      for (uint32_t q : dominated_by[p]) {
        if (--domination_count[q] == 0) next.push_back(q);
      }
    }
    std::sort(next.begin(), next.end());
    fronts.push_back(std::move(next));
  }
  fronts.pop_back();
  return fronts;
}

namespace {

// Efficient non-dominated sort with sequential search (ENS-SS, Zhang et al. 2015), for points
// that all have `dims` objectives. In lexicographic order of the (sanitized) objectives a point
// can only be dominated by points before it, so each point, in that order, joins the first front
// none of whose members dominates it: its dominators are all placed already, and dominance is
// transitive, so a point dominated from a later front is dominated from every front before it.
// Each front's members are tried newest first, the likeliest to dominate the next point. With at
// most two objectives the newest alone decides: along a front in this order the first objective
// never falls and the second strictly falls (equal points aside), so the newest member has the
// smallest second objective, and if any member dominates the point, the newest does. Then the
// sort is O(n log n + n x fronts); with more objectives at most one comparison per (point, front
// member) pair, and in practice far fewer than the pairwise sort's n^2 / 2.
std::vector<std::vector<size_t>> SequentialSort(const std::vector<Objectives>& points,
                                                size_t dims) {
  const size_t n = points.size();
  std::vector<double> values(n * dims);
  for (size_t p = 0; p < n; ++p) {
    for (size_t m = 0; m < dims; ++m) values[p * dims + m] = Sanitize(points[p][m]);
  }
  auto objectives = [&](size_t p) { return values.data() + p * dims; };
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return std::lexicographical_compare(objectives(a), objectives(a) + dims, objectives(b),
                                        objectives(b) + dims);
  });
  std::vector<std::vector<uint32_t>> placed;
  for (uint32_t p : order) {
    size_t front = 0;
    for (; front < placed.size(); ++front) {
      const std::vector<uint32_t>& members = placed[front];
      const auto last = dims <= 2 ? members.rbegin() + 1 : members.rend();
      bool dominated = false;
      for (auto it = members.rbegin(); it != last && !dominated; ++it) {
        dominated = DominanceOf(objectives(*it), dims, objectives(p), dims) == Dominance::kFirst;
      }
      if (!dominated) break;
    }
    if (front == placed.size()) placed.emplace_back();
    placed[front].push_back(p);
  }
  std::vector<std::vector<size_t>> fronts(placed.size());
  for (size_t f = 0; f < placed.size(); ++f) {
    fronts[f].assign(placed[f].begin(), placed[f].end());
    std::sort(fronts[f].begin(), fronts[f].end());
  }
  return fronts;
}

}  // namespace

std::vector<std::vector<size_t>> NondominatedSort(const std::vector<Objectives>& points) {
  if (points.empty()) return {};
  const size_t dims = points[0].size();
  for (const Objectives& point : points) {
    if (point.size() != dims) return PairwiseNondominatedSort(points);
  }
  return SequentialSort(points, dims);
}

std::vector<double> CrowdingDistance(const std::vector<Objectives>& points,
                                     const std::vector<size_t>& front) {
  const size_t n = front.size();
  std::vector<double> distance(n, 0.0);
  if (n == 0) return distance;
  const double inf = std::numeric_limits<double>::infinity();
  const size_t dims = points[front[0]].size();
  std::vector<size_t> order(n);
  for (size_t m = 0; m < dims; ++m) {
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return Sanitize(points[front[a]][m]) < Sanitize(points[front[b]][m]);
    });
    const double lo = Sanitize(points[front[order.front()]][m]);
    const double hi = Sanitize(points[front[order.back()]][m]);
    distance[order.front()] = inf;
    distance[order.back()] = inf;
    const double range = hi - lo;
    if (!(range > 0) || !std::isfinite(range)) continue;
    for (size_t i = 1; i + 1 < n; ++i) {
      const double gap =
          Sanitize(points[front[order[i + 1]]][m]) - Sanitize(points[front[order[i - 1]]][m]);
      if (std::isfinite(gap)) distance[order[i]] += gap / range;
    }
  }
  return distance;
}

std::vector<size_t> ParetoFront(const std::vector<Objectives>& points) {
  std::vector<size_t> front;
  for (size_t i = 0; i < points.size(); ++i) {
    bool keep = true;
    for (size_t j = 0; j < points.size() && keep; ++j) {
      if (i == j) continue;
      if (Dominates(points[j], points[i])) keep = false;
      if (j < i && points[j] == points[i]) keep = false;
    }
    if (keep) front.push_back(i);
  }
  return front;
}

}  // namespace evolv
