// A residual MLP with skippable blocks, its gradients and an Adam optimizer, in Eigen.
//
//   h_0     = W_in x + b_in                                  (width)
//   h_{b+1} = h_b + W2_b silu(W1_b h_b + b1_b) + b2_b         block b, or h_b when b is skipped
//   y       = W_out h_B + b_out                              (output)
//
// A skipped block keeps its skip connection: it is exactly the identity, and costs nothing.
// The parameters are one flat vector (the layout of DenoiserModel.parameters in
// proto/evolv/v1/diffusion.proto), so the optimizer and the model file see one array.
// Columns of the input are independent samples.
//
// Scalar is float (training and sampling) or double (the finite-difference gradient checks).
// Thread-safety: Forward, Backward and Apply are const and safe to call concurrently; SetParameters
// and the Adam step are not.
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <vector>

#include "search/rng.h"

namespace evolv {

struct MlpShape {
  int input = 0;
  int width = 0;
  int blocks = 0;
  int output = 0;

  // Number of parameters of the flat layout.
  int64_t Parameters() const;
};

template <typename Scalar>
class ResidualMlp {
 public:
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

  // What Forward keeps for Backward.
  struct Trace {
    Matrix input;                  // x
    std::vector<Matrix> block_in;  // h_b, for every block that ran (empty for a skipped one)
    std::vector<Matrix> pre;       // W1_b h_b + b1_b
    Matrix last;                   // h_B
    std::vector<bool> skipped;
  };

  // All parameters zero. `shape`'s sizes must be > 0 (the caller bounds them).
  explicit ResidualMlp(const MlpShape& shape);

  // Weights ~ N(0, 1/fan_in) (the residual branch's W2 also / sqrt(blocks), so the sum over
  // blocks keeps the scale), biases 0: a deterministic function of `rng`.
  void Initialize(Rng& rng);

  const MlpShape& shape() const { return shape_; }
  const Vector& parameters() const { return parameters_; }
  Vector& mutable_parameters() { return parameters_; }

  // y for the columns of `x` (input x n), skipping blocks where `skipped[b]` (size blocks, or
  // empty for none). With `trace`, keeps what Backward needs.
  Matrix Forward(const Matrix& x, const std::vector<bool>& skipped, Trace* trace) const;
  // The gradient of sum(dy .* y) with respect to the parameters (flat, added into `gradient`),
  // for the Forward that filled `trace`.
  void Backward(const Trace& trace, const Matrix& dy, Vector* gradient) const;

 private:
  MlpShape shape_;
  Vector parameters_;
};

// Adam (Kingma & Ba) over a flat parameter vector: beta1 0.9, beta2 0.999, epsilon 1e-8.
template <typename Scalar>
class Adam {
 public:
  using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
  explicit Adam(int64_t size);
  // One step of size `learning_rate` along `gradient`.
  void Step(const Vector& gradient, double learning_rate, Vector* parameters);

 private:
  Vector m_, v_;
  int64_t t_ = 0;
};

extern template class ResidualMlp<float>;
extern template class ResidualMlp<double>;
extern template class Adam<float>;
extern template class Adam<double>;

}  // namespace evolv
