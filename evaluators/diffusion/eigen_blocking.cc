#include "evaluators/diffusion/eigen_blocking.h"

#include <Eigen/Core>

namespace evolv {

void PinEigenBlocking() {
  static const bool pinned = [] {
    Eigen::setCpuCacheSizes(kEigenBlockingL1, kEigenBlockingL2, kEigenBlockingL3);
    return true;
  }();
  (void)pinned;
}

}  // namespace evolv
