#include "evaluators/numerics/interpreter.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <utility>

namespace evolv::numerics {
namespace {

// Op codes of the kernels' template parameters: the order of Op (kAdd, kSub, kMul, kDiv).
template <typename T, int kOp>
inline T Apply(T a, T b) {
  if constexpr (kOp == 0) return a + b;
  if constexpr (kOp == 1) return a - b;
  if constexpr (kOp == 2) return a * b;
  if constexpr (kOp == 3) return a / b;
}

template <typename T>
inline T ApplyOp(Op op, T a, T b) {
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

}  // namespace

// The kernels. Each runs one step over a full block; kReg* says whether an operand is a register
// slot (an array) or a constant (a scalar broadcast by the compiler). Destinations never overlap
// sources except the output over x at the same index (reads precede the write), hence
// __restrict; the compile-time trip count lets GCC emit straight SIMD without remainder checks.
template <typename T>
struct InterpreterKernels {
  using Step = typename CompiledProgram<T>::Step;
  using Kernel = typename CompiledProgram<T>::Kernel;
  static constexpr int kN = CompiledProgram<T>::kBlock;

  // d = a op b
  template <int kOp, bool kRegA, bool kRegB>
  static void Binary(const Step& s, T* const* slot, const T* k, T* dst) {
    const T* __restrict a = kRegA ? slot[s.a] : nullptr;
    const T* __restrict b = kRegB ? slot[s.b] : nullptr;
    const T ka = kRegA ? T(0) : k[s.a], kb = kRegB ? T(0) : k[s.b];
    T* __restrict d = dst;
    for (int i = 0; i < kN; ++i) d[i] = Apply<T, kOp>(kRegA ? a[i] : ka, kRegB ? b[i] : kb);
  }

  // t = a op1 b; d = t op2 c (kTLeft) or c op2 t. t is rounded to T like any intermediate.
  template <int kOp1, bool kRegA, bool kRegB, int kOp2, bool kTLeft, bool kRegC>
  static void Fused(const Step& s, T* const* slot, const T* k, T* dst) {
    const T* __restrict a = kRegA ? slot[s.a] : nullptr;
    const T* __restrict b = kRegB ? slot[s.b] : nullptr;
    const T* __restrict c = kRegC ? slot[s.c] : nullptr;
    const T ka = kRegA ? T(0) : k[s.a], kb = kRegB ? T(0) : k[s.b], kc = kRegC ? T(0) : k[s.c];
    T* __restrict d = dst;
    for (int i = 0; i < kN; ++i) {
      const T t = Apply<T, kOp1>(kRegA ? a[i] : ka, kRegB ? b[i] : kb);
      const T u = kRegC ? c[i] : kc;
      d[i] = kTLeft ? Apply<T, kOp2>(t, u) : Apply<T, kOp2>(u, t);
    }
  }

  template <bool kRegA, bool kRegB, bool kRegC>
  static void Fma(const Step& s, T* const* slot, const T* k, T* dst) {
    const T* __restrict a = kRegA ? slot[s.a] : nullptr;
    const T* __restrict b = kRegB ? slot[s.b] : nullptr;
    const T* __restrict c = kRegC ? slot[s.c] : nullptr;
    const T ka = kRegA ? T(0) : k[s.a], kb = kRegB ? T(0) : k[s.b], kc = kRegC ? T(0) : k[s.c];
    T* __restrict d = dst;
    for (int i = 0; i < kN; ++i) {
      d[i] = std::fma(kRegA ? a[i] : ka, kRegB ? b[i] : kb, kRegC ? c[i] : kc);
    }
  }

  // Tables indexed by the bits of (op, operand kinds), filled at compile time.
  template <size_t... I>
  static constexpr std::array<Kernel, sizeof...(I)> BinaryTable(std::index_sequence<I...>) {
    return {&Binary<(I >> 2) & 3, ((I >> 1) & 1) != 0, (I & 1) != 0>...};
  }
  template <size_t... I>
  static constexpr std::array<Kernel, sizeof...(I)> FusedTable(std::index_sequence<I...>) {
    return {&Fused<(I >> 6) & 3, ((I >> 5) & 1) != 0, ((I >> 4) & 1) != 0, (I >> 2) & 3,
                   ((I >> 1) & 1) != 0, (I & 1) != 0>...};
  }
  template <size_t... I>
  static constexpr std::array<Kernel, sizeof...(I)> FmaTable(std::index_sequence<I...>) {
    return {&Fma<((I >> 2) & 1) != 0, ((I >> 1) & 1) != 0, (I & 1) != 0>...};
  }

  static Kernel PickBinary(Op op, bool ra, bool rb) {
    static constexpr auto kTable = BinaryTable(std::make_index_sequence<16>());
    return kTable[(static_cast<int>(op) << 2) | (ra << 1) | rb];
  }
  static Kernel PickFused(Op op1, bool ra, bool rb, Op op2, bool t_left, bool rc) {
    static constexpr auto kTable = FusedTable(std::make_index_sequence<256>());
    return kTable[(static_cast<int>(op1) << 6) | (ra << 5) | (rb << 4) |
                  (static_cast<int>(op2) << 2) | (t_left << 1) | rc];
  }
  static Kernel PickFma(bool ra, bool rb, bool rc) {
    static constexpr auto kTable = FmaTable(std::make_index_sequence<8>());
    return kTable[(ra << 2) | (rb << 1) | rc];
  }
};

template <typename T>
CompiledProgram<T>::CompiledProgram(const Program& p) {
  const std::vector<bool> live = LiveValues(p);
  const std::vector<bool> dep = DependsOnX(p);
  const uint32_t n_values = p.num_values();
  std::vector<T> folded(n_values, T(0));  // value of each constant-only value
  std::vector<int> const_index(n_values, -1);
  auto constant_index = [&](uint32_t v) {
    if (const_index[v] < 0) {
      const_index[v] = static_cast<int>(constants_.size());
      constants_.push_back(folded[v]);
    }
    return const_index[v];
  };
  for (size_t k = 0; k < p.constants.size(); ++k) folded[1 + k] = static_cast<T>(p.constants[k]);

  // The live x-dependent instructions, and how often each value is read by them.
  std::vector<size_t> nodes;
  std::vector<int> uses(n_values, 0);
  for (size_t i = 0; i < p.instructions.size(); ++i) {
    const Instruction& in = p.instructions[i];
    const uint32_t v = p.value_of(i);
    if (!dep[v]) {
      folded[v] = in.op == Op::kFma ? std::fma(folded[in.a], folded[in.b], folded[in.c])
                                    : ApplyOp(in.op, folded[in.a], folded[in.b]);
      continue;
    }
    if (!live[v]) continue;
    nodes.push_back(i);
    ++uses[in.a];
    ++uses[in.b];
    if (in.op == Op::kFma) ++uses[in.c];
  }
  num_instructions_ = static_cast<int>(nodes.size());
  const uint32_t r = p.result();
  ++uses[r];
  if (nodes.empty()) {
    if (!dep[r]) result_constant_ = constant_index(r);
    return;
  }

  // Fusion: a binary instruction whose value is read once, by a binary instruction, runs inside
  // that reader's kernel (its operands are still in their slots then). A fused reader is not
  // fused again, so every kernel computes at most two instructions.
  std::vector<uint32_t> absorbed_by_value(n_values, 0);  // reader's value, 0 when not absorbed
  std::vector<int> absorbed_operand(n_values, -1);       // for a reader: operand position fused
  for (size_t i : nodes) {
    const Instruction& in = p.instructions[i];
    const uint32_t v = p.value_of(i);
    if (in.op == Op::kFma) continue;
    for (int pos = 0; pos < 2; ++pos) {
      const uint32_t u = pos == 0 ? in.a : in.b;
      if (u == 0 || !dep[u] || uses[u] != 1) continue;
      const Instruction& producer = p.instructions[u - 1 - p.constants.size()];
      if (producer.op == Op::kFma || absorbed_operand[u] >= 0) continue;
      absorbed_by_value[u] = v;
      absorbed_operand[v] = pos;
      break;
    }
  }

  std::vector<int> slot_of(n_values, -1);
  slot_of[0] = 0;
  auto operand = [&](uint32_t v, int* index) {
    if (dep[v]) {
      *index = slot_of[v];
      return true;
    }
    *index = constant_index(v);
    return false;
  };
  for (size_t i : nodes) {
    const Instruction& in = p.instructions[i];
    const uint32_t v = p.value_of(i);
    if (absorbed_by_value[v] != 0) continue;
    Step s{};
    s.dst = num_slots_++;
    slot_of[v] = s.dst;
    if (in.op == Op::kFma) {
      const bool ra = operand(in.a, &s.a), rb = operand(in.b, &s.b), rc = operand(in.c, &s.c);
      s.kernel = InterpreterKernels<T>::PickFma(ra, rb, rc);
    } else if (absorbed_operand[v] >= 0) {
      const bool t_left = absorbed_operand[v] == 0;
      const Instruction& first = p.instructions[(t_left ? in.a : in.b) - 1 - p.constants.size()];
      const bool ra = operand(first.a, &s.a), rb = operand(first.b, &s.b);
      const bool rc = operand(t_left ? in.b : in.a, &s.c);
      s.kernel = InterpreterKernels<T>::PickFused(first.op, ra, rb, in.op, t_left, rc);
    } else {
      const bool ra = operand(in.a, &s.a), rb = operand(in.b, &s.b);
      s.kernel = InterpreterKernels<T>::PickBinary(in.op, ra, rb);
    }
    steps_.push_back(s);
  }
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
  // Register file: slots 1.. num_slots_-1, then a padded input and output block for the tail.
  thread_local std::vector<T> storage;
  const size_t need = static_cast<size_t>(num_slots_ + 2) * kBlock;
  if (storage.size() < need) storage.resize(need);
  constexpr int kMaxStackSlots = 64;
  T* stack_slots[kMaxStackSlots];
  std::vector<T*> heap_slots;
  T** slot = stack_slots;
  if (num_slots_ > kMaxStackSlots) {
    heap_slots.resize(num_slots_);
    slot = heap_slots.data();
  }
  for (int s = 1; s < num_slots_; ++s) slot[s] = storage.data() + static_cast<size_t>(s) * kBlock;
  T* tail_in = storage.data() + static_cast<size_t>(num_slots_) * kBlock;
  T* tail_out = tail_in + kBlock;
  const T* k = constants_.data();
  const size_t last = steps_.size() - 1;
  for (size_t start = 0; start < n; start += kBlock) {
    const size_t len = std::min<size_t>(kBlock, n - start);
    T* dst = out + start;
    if (len == kBlock) {
      slot[0] = const_cast<T*>(x + start);
    } else {  // a partial block runs padded (with its last input) and copies its results out
      std::copy(x + start, x + n, tail_in);
      std::fill(tail_in + len, tail_in + kBlock, x[n - 1]);
      slot[0] = tail_in;
      dst = tail_out;
    }
    for (size_t i = 0; i < last; ++i) steps_[i].kernel(steps_[i], slot, k, slot[steps_[i].dst]);
    steps_[last].kernel(steps_[last], slot, k, dst);
    if (len != kBlock) std::copy(tail_out, tail_out + len, out + start);
  }
}

template class CompiledProgram<float>;
template class CompiledProgram<long double>;

}  // namespace evolv::numerics
