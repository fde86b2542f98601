#include "evaluators/numerics/interpreter.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

namespace evolv::numerics {
namespace {

using interpreter_internal::KernelTables;
using interpreter_internal::kRdiv;
using interpreter_internal::kRsub;

template <typename T, int kOp>
inline T Apply(T t, T u) {
  if constexpr (kOp == 0) return t + u;
  if constexpr (kOp == 1) return t - u;
  if constexpr (kOp == 2) return t * u;
  if constexpr (kOp == 3) return t / u;
  if constexpr (kOp == kRsub) return u - t;
  if constexpr (kOp == kRdiv) return u / t;
}

// The kernel op computing `op` with operands swapped (a op b == b Swapped(op) a).
int Swapped(Op op) {
  switch (op) {
    case Op::kSub:
      return kRsub;
    case Op::kDiv:
      return kRdiv;
    default:
      return static_cast<int>(op);
  }
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

// The baseline kernels (interpreter_tables.h names the family's shape). Each runs one step over a
// full block; kReg* says whether an operand is a register slot (an array) or a constant (a scalar
// broadcast by the compiler). Destinations never overlap sources except the output over x at the
// same index (reads precede the write), hence __restrict; the compile-time trip count lets GCC
// emit straight SIMD (SSE2 on x86-64) without remainder checks.
template <typename T>
struct PortableKernels {
  using Step = interpreter_internal::Step<T>;
  static constexpr int kN = CompiledProgram<T>::kBlock;

  // A chain of kLen instructions: t = a op0 b; t = t op1 c; t = t op2 d. Operand a is a register;
  // b, c, d are registers or constants. Every link rounds t to T like any intermediate.
  template <int kLen, int kOp0, bool kRegB, int kOp1, bool kRegC, int kOp2, bool kRegD>
  static void Chain(const Step& s, T* const* slot, const T* k, T* dst) {
    const T* __restrict a = slot[s.a];
    const T* __restrict b = kRegB ? slot[s.b] : nullptr;
    const T* __restrict c = kLen >= 2 && kRegC ? slot[s.c] : nullptr;
    const T* __restrict d = kLen >= 3 && kRegD ? slot[s.d] : nullptr;
    const T kb = kRegB ? T(0) : k[s.b];
    const T kc = kLen < 2 || kRegC ? T(0) : k[s.c];
    const T kd = kLen < 3 || kRegD ? T(0) : k[s.d];
    T* __restrict out = dst;
    for (int i = 0; i < kN; ++i) {
      T t = Apply<T, kOp0>(a[i], kRegB ? b[i] : kb);
      if constexpr (kLen >= 2) t = Apply<T, kOp1>(t, kRegC ? c[i] : kc);
      if constexpr (kLen >= 3) t = Apply<T, kOp2>(t, kRegD ? d[i] : kd);
      out[i] = t;
    }
  }

  // The mirror form of rational approximations, t = (a op1 b) op2 (a op3 b) with op1, op3 in
  // {+, -}, optionally extended by one link t = t op c. Operand a is a register.
  template <int kOp1, int kOp3, int kOp2, bool kRegB, bool kLink, int kOpC, bool kRegC>
  static void Mirror(const Step& s, T* const* slot, const T* k, T* dst) {
    const T* __restrict a = slot[s.a];
    const T* __restrict b = kRegB ? slot[s.b] : nullptr;
    const T* __restrict c = kLink && kRegC ? slot[s.c] : nullptr;
    const T kb = kRegB ? T(0) : k[s.b];
    const T kc = !kLink || kRegC ? T(0) : k[s.c];
    T* __restrict out = dst;
    for (int i = 0; i < kN; ++i) {
      const T u = kRegB ? b[i] : kb;
      T t = Apply<T, kOp2>(Apply<T, kOp1>(a[i], u), Apply<T, kOp3>(a[i], u));
      if constexpr (kLink) t = Apply<T, kOpC>(t, kRegC ? c[i] : kc);
      out[i] = t;
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

  static const KernelTables<T>& Tables() {
    return interpreter_internal::TableBuilder<T, PortableKernels,
                                              CompiledProgram<T>::kMaxChain>::Tables();
  }
};

// The tables a program constructed now uses, and their target's name.
template <typename T>
const KernelTables<T>& ChosenTables(const char** name) {
  if constexpr (std::is_same_v<T, float>) {
    if (const KernelTables<float>* simd = interpreter_internal::ChosenSimdFloatTables(name)) {
      return *simd;
    }
  }
  *name = "baseline";
  return PortableKernels<T>::Tables();
}

}  // namespace

template <typename T>
std::vector<T> FoldConstants(const Program& p) {
  const std::vector<bool> dep = DependsOnX(p);
  std::vector<T> folded(p.num_values(), T(0));
  for (size_t k = 0; k < p.constants.size(); ++k) folded[1 + k] = static_cast<T>(p.constants[k]);
  for (size_t i = 0; i < p.instructions.size(); ++i) {
    const Instruction& in = p.instructions[i];
    const uint32_t v = p.value_of(i);
    if (dep[v]) continue;
    folded[v] = in.op == Op::kFma ? std::fma(folded[in.a], folded[in.b], folded[in.c])
                                  : ApplyOp(in.op, folded[in.a], folded[in.b]);
  }
  return folded;
}

template <typename T>
CompiledProgram<T>::CompiledProgram(const Program& p) {
  const std::vector<bool> live = LiveValues(p);
  const std::vector<bool> dep = DependsOnX(p);
  const uint32_t n_values = p.num_values();
  const uint32_t first_instruction = static_cast<uint32_t>(1 + p.constants.size());
  const std::vector<T> folded = FoldConstants<T>(p);  // value of each constant-only value
  const KernelTables<T>& kernels = ChosenTables<T>(&simd_target_);
  std::vector<int> const_index(n_values, -1);
  auto constant_index = [&](uint32_t v) {
    if (const_index[v] < 0) {
      const_index[v] = static_cast<int>(constants_.size());
      constants_.push_back(folded[v]);
    }
    return const_index[v];
  };
  auto instruction = [&](uint32_t v) -> const Instruction& {
    return p.instructions[v - first_instruction];
  };

  // The live x-dependent instructions, and how often each value is read by them.
  std::vector<uint32_t> nodes;
  std::vector<int> uses(n_values, 0);
  for (size_t i = 0; i < p.instructions.size(); ++i) {
    const Instruction& in = p.instructions[i];
    const uint32_t v = p.value_of(i);
    if (!dep[v] || !live[v]) continue;
    nodes.push_back(v);
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

  // Chains: a binary instruction read once, by a binary instruction, runs inside its reader's
  // kernel (its operands are still in their slots then); a reader extends at most one operand's
  // chain, and chains stop at kMaxChain links.
  std::vector<int> chain_length(n_values, 0);
  std::vector<uint32_t> extends(n_values, 0);  // the operand value a reader's chain extends
  std::vector<bool> absorbed(n_values, false);
  std::vector<bool> mirror(n_values, false);
  auto single_use = [&](uint32_t u) {
    return u >= first_instruction && dep[u] && uses[u] == 1 && instruction(u).op != Op::kFma;
  };
  auto add_or_sub = [](Op op) { return op == Op::kAdd || op == Op::kSub; };
  for (uint32_t v : nodes) {
    const Instruction& in = instruction(v);
    chain_length[v] = 1;
    if (in.op == Op::kFma) continue;
    if (kMaxChain >= 3 && in.a != in.b && single_use(in.a) && single_use(in.b)) {
      const Instruction &l = instruction(in.a), &r = instruction(in.b);
      if (add_or_sub(l.op) && add_or_sub(r.op) && l.a == r.a && l.b == r.b && dep[l.a]) {
        mirror[v] = absorbed[in.a] = absorbed[in.b] = true;
        chain_length[v] = kMaxChain - 1;  // room for one link
        continue;
      }
    }
    for (uint32_t u : {in.a, in.b}) {
      if (!single_use(u) || chain_length[u] >= kMaxChain) continue;
      extends[v] = u;
      absorbed[u] = true;
      chain_length[v] = chain_length[u] + 1;
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
  for (uint32_t v : nodes) {
    if (absorbed[v]) continue;
    const Instruction& in = instruction(v);
    Step s{};
    if (in.op == Op::kFma) {
      const bool ra = operand(in.a, &s.a), rb = operand(in.b, &s.b), rc = operand(in.c, &s.c);
      s.kernel = kernels.fma[interpreter_internal::FmaIndex(ra, rb, rc)];
    } else {
      uint32_t links[kMaxChain] = {};
      int len = 0;
      for (uint32_t u = v; u != 0; u = extends[u]) links[len++] = u;
      std::reverse(links, links + len);
      if (mirror[links[0]]) {
        const Instruction& m = instruction(links[0]);
        const Instruction &l = instruction(m.a), &r = instruction(m.b);
        operand(l.a, &s.a);
        const bool rb = operand(l.b, &s.b);
        int link = -1;
        if (len == 2) {
          const Instruction& next = instruction(links[1]);
          const bool swap = next.b == links[0];
          const bool reg = operand(swap ? next.a : next.b, &s.c);
          link = (swap ? Swapped(next.op) : static_cast<int>(next.op)) * 2 + reg;
        }
        s.kernel = kernels.mirror[interpreter_internal::MirrorIndex(
            static_cast<int>(l.op), static_cast<int>(r.op), static_cast<int>(m.op), rb, link)];
        s.dst = num_slots_++;
        slot_of[v] = s.dst;
        steps_.push_back(s);
        continue;
      }
      int variants[kMaxChain] = {};
      int* leaf[4] = {&s.a, &s.b, &s.c, &s.d};
      // The first link reads a register as a (a constant first operand swaps sides).
      const Instruction& head = instruction(links[0]);
      bool swap = !dep[head.a];
      operand(swap ? head.b : head.a, &s.a);
      const bool rb = operand(swap ? head.a : head.b, &s.b);
      variants[0] = (swap ? Swapped(head.op) : static_cast<int>(head.op)) * 2 + rb;
      for (int j = 1; j < len; ++j) {
        const Instruction& link = instruction(links[j]);
        swap = link.b == links[j - 1];  // the running value is the second operand
        const bool reg = operand(swap ? link.a : link.b, leaf[j + 1]);
        variants[j] = (swap ? Swapped(link.op) : static_cast<int>(link.op)) * 2 + reg;
      }
      s.kernel = kernels.chain[len - 1][interpreter_internal::ChainIndex(variants, len)];
    }
    s.dst = num_slots_++;
    slot_of[v] = s.dst;
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
  // Register file: slots 1.. num_slots_-1, then a padded input and output block for the tail;
  // slots start on a cache line (kBlock * sizeof(T) is a multiple of 64), so no wide load splits.
  constexpr size_t kAlign = 64;
  thread_local std::vector<T> storage;
  const size_t need = static_cast<size_t>(num_slots_ + 2) * kBlock + kAlign / sizeof(T);
  if (storage.size() < need) storage.resize(need);
  const size_t misalign = reinterpret_cast<uintptr_t>(storage.data()) % kAlign;
  T* const base = storage.data() + (misalign == 0 ? 0 : (kAlign - misalign) / sizeof(T));
  constexpr int kMaxStackSlots = 64;
  T* stack_slots[kMaxStackSlots];
  std::vector<T*> heap_slots;
  T** slot = stack_slots;
  if (num_slots_ > kMaxStackSlots) {
    heap_slots.resize(num_slots_);
    slot = heap_slots.data();
  }
  for (int s = 1; s < num_slots_; ++s) slot[s] = base + static_cast<size_t>(s) * kBlock;
  T* tail_in = base + static_cast<size_t>(num_slots_) * kBlock;
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
template std::vector<float> FoldConstants<float>(const Program& p);
template std::vector<double> FoldConstants<double>(const Program& p);
template std::vector<long double> FoldConstants<long double>(const Program& p);

}  // namespace evolv::numerics
