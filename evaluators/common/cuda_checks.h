// The checks of a CUDA test that builds with nvcc and CMake alone (no GoogleTest on a GPU
// machine): Expect records a failure and says what; RunChecks runs named checks in order, prints
// "[ PASS ] name" or "[ FAIL ] name" for each and a summary, and gives the exit code (0 when all
// pass, 1 otherwise). A test exits 77, ctest's SKIP_RETURN_CODE, before them when there is no
// device.
#pragma once

#include <cstdio>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace evolv::cuda_checks {

inline int& Failures() {
  static int failures = 0;
  return failures;
}

inline void Expect(bool ok, const std::string& what) {
  if (ok) return;
  ++Failures();
  std::printf("    mismatch: %s\n", what.c_str());
}

inline int RunChecks(const std::vector<std::pair<const char*, std::function<void()>>>& checks) {
  int failed_checks = 0;
  for (const auto& [name, run] : checks) {
    const int before = Failures();
    run();
    const bool ok = Failures() == before;
    failed_checks += ok ? 0 : 1;
    std::printf("[ %s ] %s\n", ok ? "PASS" : "FAIL", name);
  }
  std::printf("%d of %zu checks failed\n", failed_checks, checks.size());
  return failed_checks == 0 ? 0 : 1;
}

}  // namespace evolv::cuda_checks
