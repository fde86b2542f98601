// Internal to the interpreter (interpreter.cc, interpreter_simd.cc): the step and kernel types,
// and the tables that map a step's shape to its kernel. One family of kernels (the portable
// loops in interpreter.cc, or the Highway kernels of one SIMD target in interpreter_simd.cc)
// fills one KernelTables through TableBuilder, so every family is indexed the same way.
//
// Kernel op codes: t op u for the four Ops in their order (add, sub, mul, div), then the reversed
// non-commutative ones (u - t, u / t), so a chain link can read its running value t from either
// side. A link's variant is op * 2 + (its operand is a register).
//
// Tables are constant after static initialization; everything here is thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <utility>

namespace evolv::numerics::interpreter_internal {

constexpr int kOps = 6;
constexpr int kRsub = 4, kRdiv = 5;
constexpr int kLinkVariants = 2 * kOps;
// Mirror kernels: op1, op3 in {+, -}, op2 any of 4, b register or constant, link none or a variant.
constexpr int kMirrorKernels = 2 * 2 * 4 * 2 * (kLinkVariants + 1);
constexpr int kFmaKernels = 8;

template <typename T>
struct Step;
template <typename T>
using Kernel = void (*)(const Step<T>& s, T* const* slot, const T* k, T* dst);
template <typename T>
struct Step {
  Kernel<T> kernel;
  int a, b, c, d;  // register slots or indices into the constants, as the kernel reads them
  int dst;         // register slot; the last step writes to the output instead
};

// A family's kernels; chain[len - 1] has kLinkVariants^len entries, nullptr beyond the family's
// longest chain (as is mirror when the family does not fuse mirrors).
template <typename T>
struct KernelTables {
  const Kernel<T>* chain[3];
  const Kernel<T>* mirror;
  const Kernel<T>* fma;
};

// The Highway kernels of the SIMD target selected now (interpreter_simd.cc), with the target's
// name in *name; nullptr (and *name untouched) when that target is the baseline.
const KernelTables<float>* ChosenSimdFloatTables(const char** name);

// `variants[i]` = link i's variant, first link most significant.
inline int ChainIndex(const int* variants, int len) {
  int index = 0;
  for (int i = 0; i < len; ++i) index = index * kLinkVariants + variants[i];
  return index;
}
// op1, op3: 0 (add) or 1 (sub); op2: 0..3; link: -1 for none, else the link's variant.
inline int MirrorIndex(int op1, int op3, int op2, bool reg_b, int link) {
  return (((op1 * 2 + op3) * 4 + op2) * 2 + reg_b) * (kLinkVariants + 1) + link + 1;
}
inline int FmaIndex(bool reg_a, bool reg_b, bool reg_c) {
  return (reg_a << 2) | (reg_b << 1) | static_cast<int>(reg_c);
}

// Fills the tables from family K, which provides, as static functions of type Kernel<T>:
//   Chain<kLen, kOp0, kRegB, kOp1, kRegC, kOp2, kRegD>: t = a op0 b; t = t op1 c; t = t op2 d
//   Mirror<kOp1, kOp3, kOp2, kRegB, kLink, kOpC, kRegC>: t = (a op1 b) op2 (a op3 b) [op c]
//   Fma<kRegA, kRegB, kRegC>
// Chain and Mirror are instantiated only up to kMaxChain links (mirror when kMaxChain >= 3).
template <typename T, class K, int kMaxChain>
struct TableBuilder {
  template <int kLen, size_t I>
  static constexpr Kernel<T> ChainAt() {
    constexpr int kL = kLinkVariants;
    constexpr int v0 = static_cast<int>(kLen == 1 ? I : kLen == 2 ? I / kL : I / (kL * kL));
    constexpr int v1 = static_cast<int>(kLen == 2 ? I % kL : kLen == 3 ? (I / kL) % kL : 0);
    constexpr int v2 = static_cast<int>(kLen == 3 ? I % kL : 0);
    return &K::template Chain<kLen, v0 / 2, (v0 & 1) != 0, v1 / 2, (v1 & 1) != 0, v2 / 2,
                              (v2 & 1) != 0>;
  }
  template <int kLen, size_t... I>
  static constexpr std::array<Kernel<T>, sizeof...(I)> ChainTable(std::index_sequence<I...>) {
    return {ChainAt<kLen, I>()...};
  }
  template <size_t I>
  static constexpr Kernel<T> MirrorAt() {
    constexpr int link = static_cast<int>(I % (kLinkVariants + 1));
    constexpr int rest = static_cast<int>(I / (kLinkVariants + 1));
    constexpr int v = link == 0 ? 0 : link - 1;
    return &K::template Mirror<(rest >> 4) & 1, (rest >> 3) & 1, (rest >> 1) & 3, (rest & 1) != 0,
                               link != 0, v / 2, (v & 1) != 0>;
  }
  template <size_t... I>
  static constexpr std::array<Kernel<T>, sizeof...(I)> MirrorTable(std::index_sequence<I...>) {
    return {MirrorAt<I>()...};
  }
  template <size_t... I>
  static constexpr std::array<Kernel<T>, sizeof...(I)> FmaTable(std::index_sequence<I...>) {
    return {&K::template Fma<((I >> 2) & 1) != 0, ((I >> 1) & 1) != 0, (I & 1) != 0>...};
  }

  static const KernelTables<T>& Tables() {
    constexpr int kL = kLinkVariants;
    static constexpr auto kChain1 = ChainTable<1>(std::make_index_sequence<kL>());
    static constexpr auto kChain2 = ChainTable<2>(std::make_index_sequence<kL * kL>());
    static constexpr auto kFma = FmaTable(std::make_index_sequence<kFmaKernels>());
    static const KernelTables<T> tables = [] {
      KernelTables<T> t{{kChain1.data(), kChain2.data(), nullptr}, nullptr, kFma.data()};
      if constexpr (kMaxChain >= 3) {
        static constexpr auto kChain3 = ChainTable<3>(std::make_index_sequence<kL * kL * kL>());
        static constexpr auto kMirror = MirrorTable(std::make_index_sequence<kMirrorKernels>());
        t.chain[2] = kChain3.data();
        t.mirror = kMirror.data();
      }
      return t;
    }();
    return tables;
  }
};

}  // namespace evolv::numerics::interpreter_internal
