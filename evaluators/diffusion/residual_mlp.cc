#include "evaluators/diffusion/residual_mlp.h"

#include <cmath>

#include "evaluators/diffusion/cuda/mlp_math.h"

namespace evolv {
namespace {

// Offsets of the flat layout: the one the device path reads (cuda/mlp_math.h).
struct Layout : diffusion::cuda::MlpLayout {
  explicit Layout(const MlpShape& s)
      : diffusion::cuda::MlpLayout({s.input, s.width, s.blocks, s.output}) {}
};

template <typename Scalar>
using MatrixOf = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
template <typename Scalar>
using VectorOf = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;

template <typename Scalar>
Eigen::Map<const MatrixOf<Scalar>> ConstBlock(const VectorOf<Scalar>& p, int64_t offset, int rows,
                                              int cols) {
  return Eigen::Map<const MatrixOf<Scalar>>(p.data() + offset, rows, cols);
}

template <typename Scalar>
Eigen::Map<MatrixOf<Scalar>> Block(VectorOf<Scalar>* p, int64_t offset, int rows, int cols) {
  return Eigen::Map<MatrixOf<Scalar>>(p->data() + offset, rows, cols);
}

// silu(z) = z / (1 + e^-z); for very negative z, e^-z is inf and the quotient -0.
template <typename Scalar>
MatrixOf<Scalar> Silu(const MatrixOf<Scalar>& z) {
  return (z.array() / (Scalar(1) + (-z.array()).exp())).matrix();
}

// silu'(z) = s (1 + z (1 - s)), s = 1 / (1 + e^-z).
template <typename Scalar>
MatrixOf<Scalar> SiluDerivative(const MatrixOf<Scalar>& z) {
  const auto s = (Scalar(1) / (Scalar(1) + (-z.array()).exp())).eval();
  return (s * (Scalar(1) + z.array() * (Scalar(1) - s))).matrix();
}

}  // namespace

int64_t MlpShape::Parameters() const { return Layout(*this).total; }

template <typename Scalar>
ResidualMlp<Scalar>::ResidualMlp(const MlpShape& shape)
    : shape_(shape), parameters_(Vector::Zero(shape.Parameters())) {}

template <typename Scalar>
void ResidualMlp<Scalar>::Initialize(Rng& rng) {
  const Layout l(shape_);
  const int w = shape_.width;
  auto fill = [&](int64_t offset, int64_t count, double scale) {
    for (int64_t i = 0; i < count; ++i) parameters_[offset + i] = Scalar(scale * rng.Normal());
  };
  parameters_.setZero();
  fill(l.w_in, int64_t{w} * shape_.input, 1.0 / std::sqrt(shape_.input));
  for (int b = 0; b < shape_.blocks; ++b) {
    fill(l.W1(b), int64_t{w} * w, 1.0 / std::sqrt(w));
    fill(l.W2(b), int64_t{w} * w, 1.0 / std::sqrt(static_cast<double>(w) * shape_.blocks));
  }
  fill(l.w_out, int64_t{shape_.output} * w, 1.0 / std::sqrt(w));
}

template <typename Scalar>
typename ResidualMlp<Scalar>::Matrix ResidualMlp<Scalar>::Forward(const Matrix& x,
                                                                  const std::vector<bool>& skipped,
                                                                  Trace* trace) const {
  const Layout l(shape_);
  const int w = shape_.width;
  const auto& p = parameters_;
  Matrix h = ConstBlock<Scalar>(p, l.w_in, w, shape_.input) * x;
  h.colwise() += ConstBlock<Scalar>(p, l.b_in, w, 1).col(0);
  if (trace != nullptr) {
    trace->input = x;
    trace->block_in.assign(shape_.blocks, Matrix());
    trace->pre.assign(shape_.blocks, Matrix());
    trace->skipped.assign(shape_.blocks, false);
  }
  for (int b = 0; b < shape_.blocks; ++b) {
    if (!skipped.empty() && skipped[b]) {
      if (trace != nullptr) trace->skipped[b] = true;
      continue;
    }
    Matrix pre = ConstBlock<Scalar>(p, l.W1(b), w, w) * h;
    pre.colwise() += ConstBlock<Scalar>(p, l.B1(b), w, 1).col(0);
    const Matrix branch = Silu<Scalar>(pre);
    if (trace != nullptr) {
      trace->block_in[b] = h;
      trace->pre[b] = std::move(pre);
    }
    h.noalias() += ConstBlock<Scalar>(p, l.W2(b), w, w) * branch;
    h.colwise() += ConstBlock<Scalar>(p, l.B2(b), w, 1).col(0);
  }
  Matrix y = ConstBlock<Scalar>(p, l.w_out, shape_.output, w) * h;
  y.colwise() += ConstBlock<Scalar>(p, l.b_out, shape_.output, 1).col(0);
  if (trace != nullptr) trace->last = std::move(h);
  return y;
}

template <typename Scalar>
void ResidualMlp<Scalar>::Backward(const Trace& trace, const Matrix& dy, Vector* gradient) const {
  const Layout l(shape_);
  const int w = shape_.width;
  const auto& p = parameters_;
  Block<Scalar>(gradient, l.w_out, shape_.output, w).noalias() += dy * trace.last.transpose();
  Block<Scalar>(gradient, l.b_out, shape_.output, 1).col(0) += dy.rowwise().sum();
  Matrix dh = ConstBlock<Scalar>(p, l.w_out, shape_.output, w).transpose() * dy;
  for (int b = shape_.blocks - 1; b >= 0; --b) {
    if (trace.skipped[b]) continue;  // the identity: dh passes through unchanged
    const Matrix& pre = trace.pre[b];
    Block<Scalar>(gradient, l.W2(b), w, w).noalias() += dh * Silu<Scalar>(pre).transpose();
    Block<Scalar>(gradient, l.B2(b), w, 1).col(0) += dh.rowwise().sum();
    const Matrix dz = ((ConstBlock<Scalar>(p, l.W2(b), w, w).transpose() * dh).array() *
                       SiluDerivative<Scalar>(pre).array())
                          .matrix();
    Block<Scalar>(gradient, l.W1(b), w, w).noalias() += dz * trace.block_in[b].transpose();
    Block<Scalar>(gradient, l.B1(b), w, 1).col(0) += dz.rowwise().sum();
    dh.noalias() += ConstBlock<Scalar>(p, l.W1(b), w, w).transpose() * dz;
  }
  Block<Scalar>(gradient, l.w_in, w, shape_.input).noalias() += dh * trace.input.transpose();
  Block<Scalar>(gradient, l.b_in, w, 1).col(0) += dh.rowwise().sum();
}

template <typename Scalar>
Adam<Scalar>::Adam(int64_t size) : m_(Vector::Zero(size)), v_(Vector::Zero(size)) {}

template <typename Scalar>
void Adam<Scalar>::Step(const Vector& gradient, double learning_rate, Vector* parameters) {
  constexpr double kBeta1 = 0.9, kBeta2 = 0.999, kEpsilon = 1e-8;
  ++t_;
  m_ = Scalar(kBeta1) * m_ + Scalar(1 - kBeta1) * gradient;
  v_ = Scalar(kBeta2) * v_ + Scalar(1 - kBeta2) * gradient.cwiseAbs2();
  const double correction1 = 1 - std::pow(kBeta1, static_cast<double>(t_));
  const double correction2 = 1 - std::pow(kBeta2, static_cast<double>(t_));
  const Scalar step = Scalar(learning_rate / correction1);
  const Scalar scale = Scalar(1 / std::sqrt(correction2));
  parameters->array() -= step * m_.array() / (v_.array().sqrt() * scale + Scalar(kEpsilon));
}

template class ResidualMlp<float>;
template class ResidualMlp<double>;
template class Adam<float>;
template class Adam<double>;

}  // namespace evolv
