// The denoiser a sampler calls: an estimate of E[x_0 | x_t] for a batch of noisy points.
//
// A denoiser may be made of blocks that can be skipped (AutoDiffusion's joint search: a skipped
// residual block keeps its skip connection, so the network still runs, only cheaper and less
// accurate). The exact mixture denoiser has none; a learned residual MLP (libtorch or Eigen)
// implements the same interface with NumBlocks() > 0.
//
// Thread-safety: Denoise is const and safe to call concurrently.
#pragma once

#include <Eigen/Dense>
#include <vector>

namespace evolv {

class Denoiser {
 public:
  virtual ~Denoiser() = default;

  // d, the dimension of a point.
  virtual int dimension() const = 0;
  // Blocks a call may skip, numbered 0..NumBlocks()-1.
  virtual int NumBlocks() const { return 0; }
  // E[x_0 | x_t] for each column of `x_t` (d x n), at training step `step` whose noise level is
  // `alpha_bar` (x_t = sqrt(alpha_bar) x_0 + sqrt(1 - alpha_bar) eps), skipping the blocks in
  // `skipped_blocks` (distinct, each < NumBlocks(); the caller checks).
  virtual Eigen::MatrixXd Denoise(const Eigen::MatrixXd& x_t, int step, double alpha_bar,
                                  const std::vector<int>& skipped_blocks) const = 0;
};

}  // namespace evolv
