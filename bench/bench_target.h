// A benchmark's figures measured N times and checked against their targets, in one format for
// every benchmark that has a target:
//
//   runs   <figure>: <run 1> <run 2> ... <run N><unit>
//   target <figure>: median <m><unit>, worst <w><unit> of N runs; target <op> <bound><unit>: PASS
//
// (MISS instead of PASS when the median misses; "worst" is the run furthest on the wrong side.)
// The benchmark returns ExitStatus() from main, so scripts/bench can tell a regression.
//
// Header-only; not thread-safe (one TargetReport per main()).
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace evolv::bench {

constexpr int kDefaultRuns = 5;
constexpr int kMaxRuns = 100;

// Removes "--runs N" or "--runs=N" from argv (the other arguments keep their order) and returns
// N, or `default_runs` when absent. Exits with status 2 and a message naming --runs when N is not an
// integer in [1, kMaxRuns].
inline int TakeRuns(int& argc, char** argv, int default_runs = kDefaultRuns) {
  int runs = default_runs;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    const char* value = nullptr;
    if (std::strcmp(argv[i], "--runs") == 0) {
      value = i + 1 < argc ? argv[++i] : "";
    } else if (std::strncmp(argv[i], "--runs=", 7) == 0) {
      value = argv[i] + 7;
    } else {
      argv[out++] = argv[i];
      continue;
    }
    char* end = nullptr;
    const long parsed = std::strtol(value, &end, 10);
    if (*value == '\0' || *end != '\0' || parsed < 1 || parsed > kMaxRuns) {
      std::fprintf(stderr, "--runs: want an integer in [1, %d], got '%s'\n", kMaxRuns, value);
      std::exit(2);
    }
    runs = static_cast<int>(parsed);
  }
  argc = out;
  argv[out] = nullptr;
  return runs;
}

enum class Compare { kAtLeast, kAtMost, kBelow };

struct Target {
  std::string figure;  // what is measured, e.g. "interpreted/native speed"
  Compare compare;
  double bound;
  std::string unit;  // printed right after each number, e.g. "x" or " us"
};

class TargetReport {
 public:
  // Prints the two lines above for `runs` (at least one figure) and records a miss when their
  // median does not meet the target.
  void Check(const Target& target, std::vector<double> runs) {
    const bool higher_is_better = target.compare == Compare::kAtLeast;
    const Summary summary = Summarize(target.figure, runs, target.unit, higher_is_better);
    const bool met = target.compare == Compare::kAtLeast  ? summary.median >= target.bound
                     : target.compare == Compare::kAtMost ? summary.median <= target.bound
                                                          : summary.median < target.bound;
    const char* op = target.compare == Compare::kAtLeast  ? ">="
                     : target.compare == Compare::kAtMost ? "<="
                                                          : "<";
    const char* unit = target.unit.c_str();
    std::printf("target %s: median %.2f%s, worst %.2f%s of %zu runs; target %s %g%s: %s\n",
                target.figure.c_str(), summary.median, unit, summary.worst, unit, runs.size(), op,
                target.bound, unit, met ? "PASS" : "MISS");
    if (!met) missed_.push_back(target.figure);
  }

  // A figure reported without a target: its runs, then "figure <f>: median <m>, worst <w> of N
  // runs" (worst: the lowest when higher is better, else the highest).
  void Report(const std::string& figure, const std::vector<double>& runs, const std::string& unit,
              bool higher_is_better) {
    const Summary summary = Summarize(figure, runs, unit, higher_is_better);
    std::printf("figure %s: median %.2f%s, worst %.2f%s of %zu runs (no target)\n", figure.c_str(),
                summary.median, unit.c_str(), summary.worst, unit.c_str(), runs.size());
  }

  // 0 when every checked median met its target; otherwise 1, after naming the missed figures.
  int ExitStatus() const {
    if (missed_.empty()) return 0;
    std::printf("missed targets:");
    for (const std::string& figure : missed_) std::printf(" [%s]", figure.c_str());
    std::printf("\n");
    return 1;
  }

 private:
  struct Summary {
    double median = 0;
    double worst = 0;
  };
  // Prints the "runs" line and returns the median and the worst run.
  static Summary Summarize(const std::string& figure, std::vector<double> runs,
                           const std::string& unit, bool higher_is_better) {
    std::printf("runs   %s:", figure.c_str());
    for (double run : runs) std::printf(" %.2f", run);
    std::printf("%s\n", unit.c_str());
    std::sort(runs.begin(), runs.end());
    const size_t n = runs.size();
    Summary summary;
    summary.median = n % 2 == 1 ? runs[n / 2] : (runs[n / 2 - 1] + runs[n / 2]) / 2;
    summary.worst = higher_is_better ? runs.front() : runs.back();
    return summary;
  }

  std::vector<std::string> missed_;
};

}  // namespace evolv::bench
