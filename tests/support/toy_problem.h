// The test tree's own domain, "toy": minimize (sum (x_i - 1)^2, sum |x_i|) over a vector
// (evolv.test.ToyVector). Probe is the vector floored to a grid of `grid` (0: exact, so only
// copies share a key; > 0: different vectors in one cell share a key, a functional collision).
// `noise` adds seeded noise to the first objective (for AGGREGATE); `work_ms` makes Evaluate
// busy-spin that long, like real CPU-bound work (for farming). Its report has one figure, a 4 x 4
// gray gradient. It is defined only here and in tests/support/proto/evolv/test/toy.proto, and
// registered by one line in ToyRegistry(): the proof that a domain needs nothing outside its own
// files. Targets that include this header link evolv_toy_domain (tests/CMakeLists.txt).
#pragma once

#include <time.h>

#include <chrono>
#include <cstdlib>
#include <cmath>
#include <sstream>
#include <string>

#include "evaluators/common/png_image.h"
#include "evolv/test/toy.pb.h"
#include "search/problem_registry.h"

namespace evolv::testing {

class ToyProblem : public Problem {
 public:
  ToyProblem(int dims, double noise, double work_ms, double grid = 0, double max_abs = 0)
      : dims_(dims), noise_(noise), work_ms_(work_ms), grid_(grid), max_abs_(max_abs) {}

  std::string Domain() const override { return "toy"; }
  std::string CanonicalSpec() const override {
    return std::to_string(dims_) + "/" + std::to_string(noise_);
  }
  std::string EvaluatorVersion() const override { return "toy/1"; }
  std::vector<std::string> ObjectiveNames() const override { return {"distance", "norm"}; }
  std::vector<v1::ObjectiveDisplay> ObjectiveDisplays() const override {
    std::vector<v1::ObjectiveDisplay> displays(2);
    displays[0].set_name("distance");
    displays[0].set_label("squared distance");
    displays[1].set_name("norm");
    displays[1].set_label("L1 norm");
    return displays;
  }

  static test::ToyVector VectorOf(const v1::Candidate& c) {
    test::ToyVector v;
    (void)UnpackCandidate(c, &v);
    return v;
  }

  v1::Candidate Random(Rng& rng) const override {
    test::ToyVector v;
    for (int i = 0; i < dims_; ++i) v.add_x(rng.Uniform(-5, 5));
    return PackCandidate(v);
  }
  v1::Candidate Mutate(const v1::Candidate& parent, Rng& rng) const override {
    test::ToyVector v = VectorOf(parent);
    if (v.x_size() != dims_) v.mutable_x()->Resize(dims_, 0.0);
    const int i = static_cast<int>(rng.Below(dims_));
    v.set_x(i, v.x(i) + 0.5 * rng.Normal());
    return PackCandidate(v);
  }
  std::optional<v1::Evaluation> CheckFeasible(const v1::Candidate& c) const override {
    if (max_abs_ <= 0) return std::nullopt;
    const test::ToyVector vector = VectorOf(c);
    for (double v : vector.x()) {
      if (std::abs(v) > max_abs_) {
        v1::Evaluation e;
        e.set_status(v1::INFEASIBLE);
        e.set_error("|x| exceeds max_abs");
        e.add_objectives(INFINITY);
        e.add_objectives(INFINITY);
        return e;
      }
    }
    return std::nullopt;
  }
  ProbeBytes Probe(const v1::Candidate& c) const override {
    std::string bytes;
    const test::ToyVector vector = VectorOf(c);  // named: a loop over a temporary's field dangles
    for (double v : vector.x()) {
      const double q = grid_ > 0 ? std::floor(v / grid_) : v;
      bytes.append(reinterpret_cast<const char*>(&q), sizeof(q));
    }
    return bytes;
  }
  v1::Evaluation Evaluate(const v1::Candidate& c, const EvalContext& context) const override {
    if (work_ms_ > 0) SpinCpu(work_ms_);
    double distance = 0, norm = 0;
    const test::ToyVector vector = VectorOf(c);
    for (double v : vector.x()) {
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
    const test::ToyVector vector = VectorOf(c);
    for (double v : vector.x()) out << v << ' ';
    return out.str();
  }
  std::string Report(const std::vector<v1::HistoryEntry>& history) const override {
    return "toy: " + std::to_string(history.size()) + " results\n";
  }
  // One figure, kGradientSide pixels square: gray level 17 * (x + 4 y) at column x, row y.
  static constexpr int kGradientSide = 4;
  std::vector<Figure> Figures(const std::vector<v1::HistoryEntry>& history) const override {
    Image image;
    image.width = image.height = kGradientSide;
    for (int i = 0; i < kGradientSide * kGradientSide; ++i) {
      image.pixels.push_back(static_cast<uint8_t>(17 * i));
    }
    auto png = EncodePng(image);
    if (!png.ok()) return {};
    return {Figure{"gradient.png",
                   "toy gradient after " + std::to_string(history.size()) + " results",
                   std::move(*png)}};
  }
  // One chart, "results": a step series of y = x * x at x = 0..kChartPoints-1, log y, x labelled
  // by the history size.
  static constexpr int kChartPoints = 5;
  std::vector<v1::ReportChart> Charts(const std::vector<v1::HistoryEntry>& history) const override {
    v1::ReportChart chart;
    chart.set_name("results");
    chart.set_title("toy chart after " + std::to_string(history.size()) + " results");
    chart.set_x_label("x");
    chart.set_y_label("x squared");
    chart.set_log_y(true);
    v1::ChartSeries* series = chart.add_series();
    series->set_label("square");
    series->set_step(true);
    for (int x = 0; x < kChartPoints; ++x) {
      series->add_x(x);
      series->add_y(x * x);
    }
    return {std::move(chart)};
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
  double max_abs_;
};

// Registers the toy domain (its one registry line).
inline absl::Status RegisterToyDomain(ProblemRegistry& registry) {
  return registry.Register<test::ToySpec>(
      "toy",
      [](const test::ToySpec& s) -> absl::StatusOr<std::unique_ptr<Problem>> {
        return std::make_unique<ToyProblem>(s.dims() ? s.dims() : 4, s.noise(), s.work_ms(),
                                            s.grid(), s.max_abs());
      },
      test::ToySpec());
}

// A registry with the toy domain alone.
inline const ProblemRegistry& ToyRegistry() {
  static const ProblemRegistry* registry = [] {
    auto* r = new ProblemRegistry;
    if (!RegisterToyDomain(*r).ok()) std::abort();
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
  double max_abs = 0;  // > 0: vectors beyond it are INFEASIBLE
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
  test::ToySpec toy;
  toy.set_dims(o.dims);
  toy.set_work_ms(o.work_ms);
  toy.set_noise(o.noise);
  toy.set_grid(o.grid);
  toy.set_max_abs(o.max_abs);
  spec->mutable_problem()->PackFrom(toy);
  spec->mutable_budget()->set_max_evaluations(o.evaluations);
  spec->set_window(o.window);
  spec->set_seed(o.seed);
  spec->mutable_cache()->set_mode(o.mode);
  return record;
}

}  // namespace evolv::testing
