// Weighted rational minimax approximation on an interval (Remez exchange), the engine behind the
// numerics baselines (baselines.h).
//
// For a function h on [lower, upper], MinimaxGrid::Fit(m, n) finds P of degree m and Q of degree
// n (Q > 0 on the interval) minimizing max |P/Q - h| / w, with w = |h| (relative error) or 1
// (absolute error), on a dense grid of the interval (4000 Chebyshev-distributed points; the
// grid's maximum is within about 1e-4 of the continuous one for the degrees used here). The work
// is in long double, in the Chebyshev basis of the interval mapped to [-1, 1]; the result is
// converted to monomials of u at the end.
//
// Method: the levelled-error system P(u_i) - h_i Q(u_i) = (-1)^i E w_i Q(u_i) on m + n + 2
// reference points, solved for (P, Q, E) by fixing E in the product with Q and iterating (a
// single linear solve when n = 0), followed by a multiple exchange of the reference toward the
// alternating extrema of the error. A polynomial (n = 0) starts from the Chebyshev extrema, then
// from the extrema of a Lawson fit (iteratively reweighted least squares). A
// rational tries, until one converges: the final references of the polynomial of degree m + n
// and of the rationals [m+1/n-1] and [m-1/n+1] fitted before on this grid, the error extrema of
// a linearized least-squares fit (Loeb's iteration with Lawson weights), the Chebyshev extrema.
//
// Errors (FailedPrecondition, the message is the reason for the report): h not finite at a grid
// point; the denominator changes sign or vanishes on the grid (a pole); the exchange stops
// without equioscillation (max error more than 5% above the levelled error, unless both are
// below the long double noise floor, 1e-17 times max |h| for absolute error).
//
// A MinimaxGrid caches h on its grid and the polynomial references; it is not thread-safe.
// Everything else here is pure.
#pragma once

#include <functional>
#include <map>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace evolv::numerics {

// Monomial coefficients c_0..c_d of p(u) = sum c_k u^k.
using Polynomial = std::vector<long double>;

// Coefficients of q(u) = p((u - shift) / scale) in monomials of u.
Polynomial Rebase(const Polynomial& p, long double shift, long double scale);
long double Horner(const Polynomial& p, long double u);

struct RationalFit {
  Polynomial p, q;            // monomials in u; q > 0 on the interval, q(0) not normalized
  long double max_error = 0;  // largest weighted error on the grid
  long double level = 0;      // |E| of the final reference: the optimum is at least about this
  int exchanges = 0;
};

class MinimaxGrid {
 public:
  // h must be finite on [lower, upper] except at `avoid` (removable singularities, such as a zero
  // divided out of the target): grid points within 1e-7 (upper - lower) of one are moved that
  // far away from it. lower < upper.
  MinimaxGrid(std::function<long double(long double)> h, long double lower, long double upper,
              bool relative, const std::vector<long double>& avoid = {});

  // The minimax P_m / Q_n (n = 0: polynomial). m, n >= 0, m + n <= kMaxDegree.
  absl::StatusOr<RationalFit> Fit(int m, int n);

  static constexpr int kMaxDegree = 40;
  static constexpr int kGridPoints = 4000;

 private:
  struct Iterate;
  absl::StatusOr<RationalFit> Remez(int m, int n, std::vector<int> reference);
  // Grid indices of the Chebyshev extrema of `points` points.
  std::vector<int> ChebyshevReference(int points) const;
  // A reference from a linearized least-squares fit (empty when it finds none).
  std::vector<int> LinearizedReference(int m, int n);

  long double lower_, upper_, mid_, half_;
  bool relative_;
  long double scale_ = 0;                       // max |h| on the grid
  std::vector<long double> u_, h_, w_;          // grid, h and the weight on it
  std::vector<std::vector<long double>> cheb_;  // cheb_[j][k] = T_k(v_j), built on demand
  absl::Status grid_status_;
  std::map<std::pair<int, int>, std::vector<int>> references_;  // last reference by (m, n)
};

}  // namespace evolv::numerics
