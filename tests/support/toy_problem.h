// A small problem for engine tests: minimize (sum (x_i - 1)^2, sum |x_i|) over a vector kept in
// NumericsProgram.constants. Probe is the vector floored to a grid of `grid` (0: exact, so only
// copies share a key; > 0: different vectors in one cell share a key, a functional collision).
// `noise` adds seeded noise to the first objective (for AGGREGATE); `work_ms` makes Evaluate
// busy-spin that long, like real CPU-bound work (for farming). Registered under the numerics case
// of JobSpec.problem in ToyRegistry(); spec.numerics.max_ops sets the dimension (default 4).
#pragma once

#include <time.h>

#include <chrono>
#include <cmath>
#include <sstream>
#include <string>

#include "search/problem_registry.h"

namespace evolv::testing {

class ToyProblem : public Problem {
 public:
  ToyProblem(int dims, double noise, double work_ms, double grid = 0)
      : dims_(dims), noise_(noise), work_ms_(work_ms), grid_(grid) {}

  std::string Domain() const override { return "toy"; }
  std::string CanonicalSpec() const override {
    return std::to_string(dims_) + "/" + std::to_string(noise_);
  }
  std::vector<std::string> ObjectiveNames() const override { return {"distance", "norm"}; }

  v1::Candidate Random(Rng& rng) const override {
    v1::Candidate c;
    for (int i = 0; i < dims_; ++i) c.mutable_program()->add_constants(rng.Uniform(-5, 5));
    return c;
  }
  v1::Candidate Mutate(const v1::Candidate& parent, Rng& rng) const override {
    v1::Candidate c = parent;
    const int i = static_cast<int>(rng.Below(dims_));
    auto* x = c.mutable_program()->mutable_constants();
    x->Set(i, x->Get(i) + 0.5 * rng.Normal());
    return c;
  }
  ProbeBytes Probe(const v1::Candidate& c) const override {
    std::string bytes;
    for (double v : c.program().constants()) {
      const double q = grid_ > 0 ? std::floor(v / grid_) : v;
      bytes.append(reinterpret_cast<const char*>(&q), sizeof(q));
    }
    return bytes;
  }
  v1::Evaluation Evaluate(const v1::Candidate& c, const EvalContext& context) const override {
    if (work_ms_ > 0) SpinCpu(work_ms_);
    double distance = 0, norm = 0;
    for (double v : c.program().constants()) {
      distance += (v - 1) * (v - 1);
      norm += std::abs(v);
    }
    if (noise_ > 0) {
      Rng rng(context.seed);
      distance += noise_ * rng.Normal();
    }
    v1::Evaluation e;
    e.set_status(v1::OK);
    e.add_objectives(distance);
    e.add_objectives(norm);
    return e;
  }
  std::string Render(const v1::Candidate& c, RenderFormat) const override {
    std::ostringstream out;
    for (double v : c.program().constants()) out << v << ' ';
    return out.str();
  }
  std::string Report(const std::vector<v1::HistoryEntry>& history) const override {
    return "toy: " + std::to_string(history.size()) + " results\n";
  }

 private:
  // Busy-works until this thread has used `ms` of CPU time (robust to being descheduled).
  static void SpinCpu(double ms) {
    auto cpu_ns = [] {
      timespec t;
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
      return t.tv_sec * 1000000000LL + t.tv_nsec;
    };
    const long long until = cpu_ns() + static_cast<long long>(ms * 1e6);
    while (cpu_ns() < until) {
    }
  }

  int dims_;
  double noise_;
  double work_ms_;
  double grid_;
};

// noise, work and grid come from numerics.lower, numerics.fit_points (ms), numerics.upper.
inline const ProblemRegistry& ToyRegistry() {
  static const ProblemRegistry* registry = [] {
    auto* r = new ProblemRegistry;
    r->Register(v1::JobSpec::kNumerics, "toy",
                [](const v1::JobSpec& spec) -> absl::StatusOr<std::unique_ptr<Problem>> {
                  const auto& n = spec.numerics();
                  return std::make_unique<ToyProblem>(n.max_ops() ? n.max_ops() : 4, n.lower(),
                                                      static_cast<double>(n.fit_points()),
                                                      n.upper());
                });
    return r;
  }();
  return *registry;
}

// A toy job, with the registry's field mapping in one place. The strategy and cache sections
// can be edited on the returned record.
struct ToyJobOptions {
  std::string id = "toy";
  int dims = 4;
  double work_ms = 0;  // CPU per evaluation
  double noise = 0;    // seeded noise on the first objective
  double grid = 0;     // probe grid; 0 = exact
  uint64_t evaluations = 100;
  uint32_t window = 8;
  uint64_t seed = 1;
  v1::CacheMode mode = v1::CACHE;
};

inline v1::JobRecord ToyJob(const ToyJobOptions& o) {
  v1::JobRecord record;
  record.set_id(o.id);
  record.set_state(v1::RUNNING);
  v1::JobSpec* spec = record.mutable_spec();
  v1::NumericsSpec* n = spec->mutable_numerics();
  n->set_max_ops(o.dims);
  n->set_fit_points(static_cast<uint32_t>(o.work_ms));
  n->set_lower(o.noise);
  n->set_upper(o.grid);
  spec->mutable_budget()->set_max_evaluations(o.evaluations);
  spec->set_window(o.window);
  spec->set_seed(o.seed);
  spec->mutable_cache()->set_mode(o.mode);
  return record;
}

}  // namespace evolv::testing
