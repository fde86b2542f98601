#include "evaluators/numerics/interpreter.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <utility>

namespace evolv::numerics {
namespace {

// Kernel op codes: t op u for the four Ops in their order, then the reversed non-commutative
// ones (u - t, u / t), so a chain link can read its running value t from either side.
constexpr int kOps = 6;
constexpr int kRsub = 4, kRdiv = 5;

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
  // Variants of one chain link: kernel op x (register or constant operand).
  static constexpr int kLinkVariants = 2 * kOps;

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

  // Tables indexed by the links' variants (op * 2 + operand is a register), first link most
  // significant; filled at compile time.
  template <int kLen, size_t I>
  static constexpr Kernel ChainAt() {
    constexpr int kL = kLinkVariants;
    constexpr int v0 = static_cast<int>(kLen == 1 ? I : kLen == 2 ? I / kL : I / (kL * kL));
    constexpr int v1 = static_cast<int>(kLen == 2 ? I % kL : kLen == 3 ? (I / kL) % kL : 0);
    constexpr int v2 = static_cast<int>(kLen == 3 ? I % kL : 0);
    return &Chain<kLen, v0 / 2, (v0 & 1) != 0, v1 / 2, (v1 & 1) != 0, v2 / 2, (v2 & 1) != 0>;
  }
  template <int kLen, size_t... I>
  static constexpr std::array<Kernel, sizeof...(I)> ChainTable(std::index_sequence<I...>) {
    return {ChainAt<kLen, I>()...};
  }
  // Index: (((op1 * 2 + op3) * 4 + op2) * 2 + b is a register) * 13 + link, where link is 0 for
  // none, else 1 + the link's variant.
  template <size_t I>
  static constexpr Kernel MirrorAt() {
    constexpr int link = static_cast<int>(I % (kLinkVariants + 1));
    constexpr int rest = static_cast<int>(I / (kLinkVariants + 1));
    constexpr int v = link == 0 ? 0 : link - 1;
    return &Mirror<(rest >> 4) & 1, (rest >> 3) & 1, (rest >> 1) & 3, (rest & 1) != 0, link != 0,
                   v / 2, (v & 1) != 0>;
  }
  template <size_t... I>
  static constexpr std::array<Kernel, sizeof...(I)> MirrorTable(std::index_sequence<I...>) {
    return {MirrorAt<I>()...};
  }
  template <size_t... I>
  static constexpr std::array<Kernel, sizeof...(I)> FmaTable(std::index_sequence<I...>) {
    return {&Fma<((I >> 2) & 1) != 0, ((I >> 1) & 1) != 0, (I & 1) != 0>...};
  }

  // `variants[i]` = kernel op * 2 + (operand is a register), for links 0..len-1.
  static Kernel PickChain(const int* variants, int len) {
    constexpr int kL = kLinkVariants;
    if (len == 1) {
      static constexpr auto kTable = ChainTable<1>(std::make_index_sequence<kL>());
      return kTable[variants[0]];
    }
    if constexpr (CompiledProgram<T>::kMaxChain >= 3) {
      if (len == 3) {
        static constexpr auto kTable = ChainTable<3>(std::make_index_sequence<kL * kL * kL>());
        return kTable[(variants[0] * kL + variants[1]) * kL + variants[2]];
      }
    }
    static constexpr auto kTable = ChainTable<2>(std::make_index_sequence<kL * kL>());
    return kTable[variants[0] * kL + variants[1]];
  }
  // op1, op3: Op::kAdd or Op::kSub; link: -1 for none, else the link's variant.
  static Kernel PickMirror(Op op1, Op op3, Op op2, bool rb, int link) {
    if constexpr (CompiledProgram<T>::kMaxChain < 3) return nullptr;  // never fused
    static constexpr auto kTable =
        MirrorTable(std::make_index_sequence<2 * 2 * 4 * 2 * (kLinkVariants + 1)>());
    const int rest =
        (((static_cast<int>(op1) * 2 + static_cast<int>(op3)) * 4 + static_cast<int>(op2)) * 2 +
         rb);
    return kTable[rest * (kLinkVariants + 1) + link + 1];
  }
  static Kernel PickFma(bool ra, bool rb, bool rc) {
    static constexpr auto kTable = FmaTable(std::make_index_sequence<8>());
    return kTable[(ra << 2) | (rb << 1) | rc];
  }
};

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
      s.kernel = InterpreterKernels<T>::PickFma(ra, rb, rc);
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
        s.kernel = InterpreterKernels<T>::PickMirror(l.op, r.op, m.op, rb, link);
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
      s.kernel = InterpreterKernels<T>::PickChain(variants, len);
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
template std::vector<float> FoldConstants<float>(const Program& p);
template std::vector<long double> FoldConstants<long double>(const Program& p);

}  // namespace evolv::numerics
