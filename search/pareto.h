// Pareto utilities for minimized objective vectors: dominance, non-dominated sorting and
// crowding distance (NSGA-II, Deb et al. 2002).
#pragma once

#include <cstddef>
#include <vector>

namespace evolv {

using Objectives = std::vector<double>;

// True when `a` is no worse than `b` in every objective and better in at least one.
// NaN compares as worse than anything.
bool Dominates(const Objectives& a, const Objectives& b);

// Fronts of indices into `points`: front 0 is non-dominated, front 1 is non-dominated once front
// 0 is removed, and so on. Every index appears in exactly one front; order within a front follows
// the input order. Fewer than 2^32 points. When all points have the same number of objectives,
// O(n log n) to order them and then, with two objectives, about one comparison per point and
// front (ENS-SS); otherwise PairwiseNondominatedSort.
std::vector<std::vector<size_t>> NondominatedSort(const std::vector<Objectives>& points);

// The same fronts by NSGA-II's own sort (Deb et al. 2002): every pair compared once, then fronts
// peeled by domination counts. O(n^2). NondominatedSort uses it for points of mixed sizes;
// bench/pareto_sort compares the two.
std::vector<std::vector<size_t>> PairwiseNondominatedSort(const std::vector<Objectives>& points);

// Crowding distance of each member of `front` (indices into `points`), in the front's order.
// Boundary points of each objective get +infinity.
std::vector<double> CrowdingDistance(const std::vector<Objectives>& points,
                                     const std::vector<size_t>& front);

// Indices of the non-dominated points, in input order; among exact duplicates only the first.
std::vector<size_t> ParetoFront(const std::vector<Objectives>& points);

}  // namespace evolv
