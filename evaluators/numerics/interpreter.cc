#include "evaluators/numerics/interpreter.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace evolv::numerics {
namespace {

template <typename T>
inline T Fma(T a, T b, T c) {
  return std::fma(a, b, c);
}

template <typename T>
inline T Apply(Op op, T a, T b) {
  switch (op) {
    case Op::kAdd:
      return a + b;
    case Op::kSub:
      return a - b;
    case Op::kMul:
      return a * b;
    default:
      return a / b;
  }
}

// The three operand shapes of a binary step, each a loop the compiler vectorizes.
// Destinations never overlap sources (each step has its own slot; the output is written by the
// last step only), hence __restrict; full blocks use a compile-time trip count.
template <typename T, typename F>
inline void LoopRR(F f, T* __restrict d, const T* __restrict a, const T* __restrict b, int n) {
  for (int i = 0; i < n; ++i) d[i] = f(a[i], b[i]);
}
template <typename T, typename F>
inline void LoopRC(F f, T* __restrict d, const T* __restrict a, T b, int n) {
  for (int i = 0; i < n; ++i) d[i] = f(a[i], b);
}
template <typename T, typename F>
inline void LoopCR(F f, T* __restrict d, T a, const T* __restrict b, int n) {
  for (int i = 0; i < n; ++i) d[i] = f(a, b[i]);
}

template <typename T, typename F>
inline void Dispatch(F f, int kind, T* d, T* const* slot, const T* k, int a, int b, int n) {
  if (n == CompiledProgram<T>::kBlock) {
    constexpr int kN = CompiledProgram<T>::kBlock;
    if (kind == 0) {
      LoopRR(f, d, slot[a], slot[b], kN);
    } else if (kind == 1) {
      LoopRC(f, d, slot[a], k[b], kN);
    } else {
      LoopCR(f, d, k[a], slot[b], kN);
    }
    return;
  }
  if (kind == 0) {
    LoopRR(f, d, slot[a], slot[b], n);
  } else if (kind == 1) {
    LoopRC(f, d, slot[a], k[b], n);
  } else {
    LoopCR(f, d, k[a], slot[b], n);
  }
}

}  // namespace

template <typename T>
CompiledProgram<T>::CompiledProgram(const Program& p) {
  const std::vector<bool> live = LiveValues(p);
  const std::vector<bool> dep = DependsOnX(p);
  const uint32_t n_values = p.num_values();
  // For each value: folded constant (if !dep) or register slot (if dep).
  std::vector<T> folded(n_values, T(0));
  std::vector<int> where(n_values, -1);  // slot for dep values, constant index otherwise
  where[0] = 0;
  auto constant_index = [&](uint32_t v) {
    if (where[v] < 0) {
      where[v] = static_cast<int>(constants_.size());
      constants_.push_back(folded[v]);
    }
    return where[v];
  };
  for (size_t k = 0; k < p.constants.size(); ++k) folded[1 + k] = static_cast<T>(p.constants[k]);
  for (size_t i = 0; i < p.instructions.size(); ++i) {
    const Instruction& in = p.instructions[i];
    const uint32_t v = p.value_of(i);
    if (!dep[v]) {
      folded[v] = in.op == Op::kFma ? Fma(folded[in.a], folded[in.b], folded[in.c])
                                    : Apply(in.op, folded[in.a], folded[in.b]);
      continue;
    }
    if (!live[v]) continue;
    Step s;
    s.op = in.op;
    s.dst = num_slots_++;
    if (in.op == Op::kFma) {
      s.kind = Kind::kFma;
      int* ops[3] = {&s.a, &s.b, &s.c};
      const uint32_t src[3] = {in.a, in.b, in.c};
      for (int k = 0; k < 3; ++k) {
        if (dep[src[k]]) {
          *ops[k] = where[src[k]];
        } else {
          // Constant fma operands get a slot filled with the broadcast value.
          *ops[k] = num_slots_++;
          fma_consts_.resize(num_slots_, -1);
          fma_consts_[*ops[k]] = constant_index(src[k]);
        }
      }
    } else if (dep[in.a] && dep[in.b]) {
      s.kind = Kind::kRegReg;
      s.a = where[in.a];
      s.b = where[in.b];
    } else if (dep[in.a]) {
      s.kind = Kind::kRegConst;
      s.a = where[in.a];
      s.b = constant_index(in.b);
    } else {
      s.kind = Kind::kConstReg;
      s.a = constant_index(in.a);
      s.b = where[in.b];
    }
    where[v] = s.dst;
    steps_.push_back(s);
  }
  fma_consts_.resize(num_slots_, -1);
  const uint32_t r = p.result();
  if (!dep[r]) result_constant_ = constant_index(r);
}

template <typename T>
void CompiledProgram<T>::Run(const T* x, T* out, size_t n) const {
  if (steps_.empty()) {
    if (result_constant_ >= 0) {
      std::fill(out, out + n, constants_[result_constant_]);
    } else if (out != x) {
      std::memmove(out, x, n * sizeof(T));
    }
    return;
  }
  // Register file: num_slots_ blocks; slot 0 points into the input, the last step into out.
  std::vector<T> storage(static_cast<size_t>(num_slots_) * kBlock);
  std::vector<T*> slot(num_slots_);
  for (int s = 1; s < num_slots_; ++s) slot[s] = storage.data() + static_cast<size_t>(s) * kBlock;
  for (int s = 1; s < num_slots_; ++s) {
    if (fma_consts_[s] >= 0) std::fill(slot[s], slot[s] + kBlock, constants_[fma_consts_[s]]);
  }
  const T* k = constants_.data();
  const size_t last = steps_.size() - 1;
  for (size_t start = 0; start < n; start += kBlock) {
    const int len = static_cast<int>(std::min<size_t>(kBlock, n - start));
    slot[0] = const_cast<T*>(x + start);
    for (size_t i = 0; i <= last; ++i) {
      const Step& s = steps_[i];
      T* d = i == last ? out + start : slot[s.dst];
      const int kind = static_cast<int>(s.kind);
      switch (s.op) {
        case Op::kAdd:
          Dispatch([](T a, T b) { return a + b; }, kind, d, slot.data(), k, s.a, s.b, len);
          break;
        case Op::kSub:
          Dispatch([](T a, T b) { return a - b; }, kind, d, slot.data(), k, s.a, s.b, len);
          break;
        case Op::kMul:
          Dispatch([](T a, T b) { return a * b; }, kind, d, slot.data(), k, s.a, s.b, len);
          break;
        case Op::kDiv:
          Dispatch([](T a, T b) { return a / b; }, kind, d, slot.data(), k, s.a, s.b, len);
          break;
        case Op::kFma: {
          const T* a = slot[s.a];
          const T* b = slot[s.b];
          const T* c = slot[s.c];
          for (int j = 0; j < len; ++j) d[j] = Fma(a[j], b[j], c[j]);
          break;
        }
      }
    }
  }
}

template class CompiledProgram<float>;
template class CompiledProgram<long double>;

}  // namespace evolv::numerics
