// The benchmark program compiled with -march=native -ffp-contract=off (numerics_throughput.cmake):
// the best this CPU does natively while computing the same bits as the interpreter (contraction
// into fma would change them).
#include "bench/numerics_ten_ops_native.h"

namespace evolv::bench {

__attribute__((noinline)) void TenOpsMarchNative(const float* x, float* y, int n) {
  TenOpsLoop(x, y, n);
}

}  // namespace evolv::bench
