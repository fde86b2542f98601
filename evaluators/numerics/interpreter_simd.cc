// The float kernels once per SIMD target (Google Highway, dynamic dispatch), and the choice of
// target (interpreter.h). Compiled with -ffp-contract=off: Highway's Mul and Add are plain vector
// arithmetic to GCC, which would otherwise fuse them into fma on targets that have it.
//
// The kernels compute exactly what the baseline ones in interpreter.cc do, lane by lane: the
// same IEEE operations in the same order, fma only as a true fused multiply-add (std::fma per
// lane where the target has none).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "evaluators/numerics/interpreter_simd.cc"
// SSSE3 adds nothing for float arithmetic over SSE4; leaving it out saves a copy of the kernels.
#ifndef HWY_DISABLED_TARGETS
#define HWY_DISABLED_TARGETS HWY_SSSE3
#endif
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// Then, once per target:
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "evaluators/numerics/interpreter.h"
#include "evaluators/numerics/interpreter_tables.h"
#include "hwy/highway.h"

#ifndef EVOLV_NUMERICS_INTERPRETER_SIMD_NAMES
#define EVOLV_NUMERICS_INTERPRETER_SIMD_NAMES
namespace evolv::numerics::interpreter_internal {
// A Highway target's name as AvailableSimdTargets spells it.
inline const char* SimdName(int64_t target) {
  switch (target) {
    case HWY_AVX3:
    case HWY_AVX3_DL:
      return "avx512";
    case HWY_AVX2:
      return "avx2";
    case HWY_SSE4:
      return "sse4";
    case HWY_SSSE3:
      return "ssse3";
    case HWY_EMU128:
    case HWY_SCALAR:
      return "baseline";
    default:
      return hwy::TargetName(target);
  }
}
}  // namespace evolv::numerics::interpreter_internal
#endif

HWY_BEFORE_NAMESPACE();
namespace evolv::numerics::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using interpreter_internal::KernelTables;
using interpreter_internal::Step;

// EMU128 and SCALAR are the portable fallbacks: the baseline kernels serve there.
#if HWY_TARGET != HWY_EMU128 && HWY_TARGET != HWY_SCALAR

template <int kOp, class V>
HWY_INLINE V Apply(V t, V u) {
  if constexpr (kOp == 0) return hn::Add(t, u);
  if constexpr (kOp == 1) return hn::Sub(t, u);
  if constexpr (kOp == 2) return hn::Mul(t, u);
  if constexpr (kOp == 3) return hn::Div(t, u);
  if constexpr (kOp == interpreter_internal::kRsub) return hn::Sub(u, t);
  if constexpr (kOp == interpreter_internal::kRdiv) return hn::Div(u, t);
}

// The same family as PortableKernels in interpreter.cc, one vector of lanes at a time. Register
// slots are 64-byte aligned but x and the output are the caller's, hence unaligned loads/stores.
struct SimdKernels {
  using D = hn::ScalableTag<float>;
  using V = hn::Vec<D>;
  static constexpr int kN = CompiledProgram<float>::kBlock;

  // An operand: the register slot's lanes at i, or the broadcast constant.
  template <bool kReg>
  static HWY_INLINE V Operand(D d, const float* HWY_RESTRICT reg, V constant, size_t i) {
    if constexpr (kReg) {
      return hn::LoadU(d, reg + i);
    } else {
      (void)d, (void)reg, (void)i;
      return constant;
    }
  }
  // A constant operand's broadcast (unused when the operand is a register).
  template <bool kReg>
  static HWY_INLINE V Broadcast(D d, const float* k, int index) {
    return kReg ? hn::Zero(d) : hn::Set(d, k[index]);
  }

  template <int kLen, int kOp0, bool kRegB, int kOp1, bool kRegC, int kOp2, bool kRegD>
  static void Chain(const Step<float>& s, float* const* slot, const float* k, float* dst) {
    const D d;
    const float* HWY_RESTRICT a = slot[s.a];
    const float* HWY_RESTRICT b = kRegB ? slot[s.b] : nullptr;
    const float* HWY_RESTRICT c = kLen >= 2 && kRegC ? slot[s.c] : nullptr;
    const float* HWY_RESTRICT e = kLen >= 3 && kRegD ? slot[s.d] : nullptr;
    const V kb = Broadcast<kRegB>(d, k, s.b);
    const V kc = Broadcast < kLen < 2 || kRegC > (d, k, s.c);
    const V kd = Broadcast < kLen < 3 || kRegD > (d, k, s.d);
    float* HWY_RESTRICT out = dst;
    for (size_t i = 0; i < kN; i += hn::Lanes(d)) {
      V t = Apply<kOp0>(hn::LoadU(d, a + i), Operand<kRegB>(d, b, kb, i));
      if constexpr (kLen >= 2) t = Apply<kOp1>(t, Operand<kRegC>(d, c, kc, i));
      if constexpr (kLen >= 3) t = Apply<kOp2>(t, Operand<kRegD>(d, e, kd, i));
      hn::StoreU(t, d, out + i);
    }
  }

  template <int kOp1, int kOp3, int kOp2, bool kRegB, bool kLink, int kOpC, bool kRegC>
  static void Mirror(const Step<float>& s, float* const* slot, const float* k, float* dst) {
    const D d;
    const float* HWY_RESTRICT a = slot[s.a];
    const float* HWY_RESTRICT b = kRegB ? slot[s.b] : nullptr;
    const float* HWY_RESTRICT c = kLink && kRegC ? slot[s.c] : nullptr;
    const V kb = Broadcast<kRegB>(d, k, s.b);
    const V kc = Broadcast < !kLink || kRegC > (d, k, s.c);
    float* HWY_RESTRICT out = dst;
    for (size_t i = 0; i < kN; i += hn::Lanes(d)) {
      const V va = hn::LoadU(d, a + i);
      const V u = Operand<kRegB>(d, b, kb, i);
      V t = Apply<kOp2>(Apply<kOp1>(va, u), Apply<kOp3>(va, u));
      if constexpr (kLink) t = Apply<kOpC>(t, Operand<kRegC>(d, c, kc, i));
      hn::StoreU(t, d, out + i);
    }
  }

  template <bool kRegA, bool kRegB, bool kRegC>
  static void Fma(const Step<float>& s, float* const* slot, const float* k, float* dst) {
    const float* HWY_RESTRICT a = kRegA ? slot[s.a] : nullptr;
    const float* HWY_RESTRICT b = kRegB ? slot[s.b] : nullptr;
    const float* HWY_RESTRICT c = kRegC ? slot[s.c] : nullptr;
    float* HWY_RESTRICT out = dst;
#if HWY_NATIVE_FMA
    const D d;
    const V ka = Broadcast<kRegA>(d, k, s.a), kb = Broadcast<kRegB>(d, k, s.b);
    const V kc = Broadcast<kRegC>(d, k, s.c);
    for (size_t i = 0; i < kN; i += hn::Lanes(d)) {
      const V t = hn::MulAdd(Operand<kRegA>(d, a, ka, i), Operand<kRegB>(d, b, kb, i),
                             Operand<kRegC>(d, c, kc, i));
      hn::StoreU(t, d, out + i);
    }
#else  // MulAdd would round twice here
    const float ka = kRegA ? 0.0f : k[s.a], kb = kRegB ? 0.0f : k[s.b];
    const float kc = kRegC ? 0.0f : k[s.c];
    for (int i = 0; i < kN; ++i) {
      out[i] = std::fma(kRegA ? a[i] : ka, kRegB ? b[i] : kb, kRegC ? c[i] : kc);
    }
#endif
  }
};

const KernelTables<float>* FloatTables() {
  return &interpreter_internal::TableBuilder<float, SimdKernels,
                                             CompiledProgram<float>::kMaxChain>::Tables();
}

#else

const KernelTables<float>* FloatTables() { return nullptr; }

#endif

const char* TargetName() { return interpreter_internal::SimdName(HWY_TARGET); }

}  // namespace evolv::numerics::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE

namespace evolv::numerics {
namespace {

HWY_EXPORT(FloatTables);
HWY_EXPORT(TargetName);

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

// The compiled targets this CPU supports, best (lowest bit) first, as Highway found them before
// any selection narrowed hwy::SupportedTargets(); the portable fallback last.
struct Targets {
  std::vector<int64_t> bits;
  std::vector<std::string> names;
};
const Targets& CpuTargets() {
  static const Targets targets = [] {
    Targets t;
    const int64_t simd = hwy::SupportedTargets() & HWY_TARGETS & ~(HWY_EMU128 | HWY_SCALAR);
    for (int64_t rest = simd; rest != 0; rest &= rest - 1) {
      const int64_t bit = rest & -rest;
      t.bits.push_back(bit);
      t.names.push_back(Lower(interpreter_internal::SimdName(bit)));
    }
    t.bits.push_back(HWY_EMU128);
    t.names.push_back("baseline");
    return t;
  }();
  return targets;
}

std::mutex selection_mutex;

absl::Status SelectLocked(std::string_view name) {
  const Targets& t = CpuTargets();
  const std::string want = Lower(name);
  if (want == "best") {
    hwy::DisableTargets(0);
    return absl::OkStatus();
  }
  for (size_t i = 0; i < t.names.size(); ++i) {
    if (t.names[i] != want) continue;
    hwy::DisableTargets(t.bits[i] - 1);  // every better target
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "simd target '", std::string(name), "': want best or one of ", absl::StrJoin(t.names, ", ")));
}

// Applies EVOLV_SIMD_TARGET once, before the first choice.
void ApplyEnvironmentOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* env = std::getenv("EVOLV_SIMD_TARGET");
    if (env == nullptr || *env == '\0') return;
    std::lock_guard<std::mutex> lock(selection_mutex);
    const absl::Status status = SelectLocked(env);
    if (!status.ok()) {
      std::fprintf(stderr, "EVOLV_SIMD_TARGET ignored: %s\n",
                   std::string(status.message()).c_str());
    }
  });
}

}  // namespace

std::vector<std::string> AvailableSimdTargets() { return CpuTargets().names; }

absl::Status SelectSimdTarget(std::string_view name) {
  CpuTargets();  // before the selection narrows what Highway reports
  ApplyEnvironmentOnce();
  std::lock_guard<std::mutex> lock(selection_mutex);
  return SelectLocked(name);
}

std::string CurrentSimdTarget() {
  CpuTargets();
  ApplyEnvironmentOnce();
  return Lower(HWY_DYNAMIC_DISPATCH(TargetName)());
}

namespace interpreter_internal {

const KernelTables<float>* ChosenSimdFloatTables(const char** name) {
  CpuTargets();
  ApplyEnvironmentOnce();
  const KernelTables<float>* tables = HWY_DYNAMIC_DISPATCH(FloatTables)();
  if (tables != nullptr) *name = HWY_DYNAMIC_DISPATCH(TargetName)();  // lower case on x86
  return tables;
}

}  // namespace interpreter_internal
}  // namespace evolv::numerics

#endif  // HWY_ONCE
