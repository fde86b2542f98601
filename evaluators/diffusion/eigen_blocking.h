// Eigen's dense matrix products split their work into blocks sized from the CPU's cache sizes,
// which Eigen reads at run time. Another blocking sums in another order, so the same evaluation
// gave other last bits on a machine with other caches (the Fashion-MNIST golden case: FD
// 6.6185949832249271 with 32 KiB of L1 data cache, 6.6185955531801817 with 48 KiB and 1 MiB of
// L2), and a result cached from one worker differed from a fresh evaluation on another beyond the
// domain's cache contract (exact to 1e-9).
//
// PinEigenBlocking() makes Eigen block for fixed sizes (kL1, kL2, kL3 below) in this process,
// whatever the CPU: evaluations are then the same on every machine with the same build. It runs
// its work once per process and is thread-safe; the diffusion domain calls it before it builds
// anything (CreateDiffusionProblem, train-denoiser), hence before any product.
#pragma once

#include <cstddef>

namespace evolv {

inline constexpr std::ptrdiff_t kEigenBlockingL1 = 32 * 1024;
inline constexpr std::ptrdiff_t kEigenBlockingL2 = 512 * 1024;
inline constexpr std::ptrdiff_t kEigenBlockingL3 = 32 * 1024 * 1024;

void PinEigenBlocking();

}  // namespace evolv
