// Measures the numerics cache contract on a replayed search (see cache_replay.h): how many cache
// hits would serve a result other than evaluating the candidate, and the hit rate.
//
//   build/tests/evaluators/numerics/numerics_cache_replay [key=value ...]
//     target=exp2 lower=0 upper=1 mode=real|float32 max_ops=10 candidates=3000 seed=1
//     parents=50 children=100 threads=2 validation_points=10000 fit_points=1024 show=3
//     report=1 (prints the problem's Report of the replayed history)
//     tolerance=0.001 (objective-0 gap for the problem-independent count)
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "evaluators/numerics/numerics_problem.h"
#include "tests/evaluators/numerics/cache_replay.h"

using namespace evolv;

namespace {

// Status, objectives and metrics of an evaluation (its refined program left out).
std::string Brief(const v1::Evaluation& ev) {
  v1::Evaluation brief = ev;
  brief.clear_refined();
  return brief.ShortDebugString();
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> args = {{"target", "exp2"},
                                             {"lower", "0"},
                                             {"upper", "1"},
                                             {"mode", "real"},
                                             {"max_ops", "10"},
                                             {"candidates", "3000"},
                                             {"seed", "1"},
                                             {"parents", "50"},
                                             {"children", "100"},
                                             {"threads", "2"},
                                             {"validation_points", "0"},
                                             {"fit_points", "0"},
                                             {"show", "3"},
                                             {"report", "0"},
                                             {"tolerance", "0.001"}};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const size_t eq = arg.find('=');
    if (eq == std::string::npos || !args.count(arg.substr(0, eq))) {
      std::fprintf(stderr, "unknown argument '%s'\n", arg.c_str());
      return 2;
    }
    args[arg.substr(0, eq)] = arg.substr(eq + 1);
  }
  auto number = [&](const char* name) { return std::strtod(args[name].c_str(), nullptr); };
  v1::NumericsSpec spec;
  spec.set_target(args["target"]);
  spec.set_lower(number("lower"));
  spec.set_upper(number("upper"));
  spec.set_mode(args["mode"] == "float32" ? v1::FLOAT32 : v1::REAL);
  spec.set_max_ops(static_cast<uint32_t>(number("max_ops")));
  spec.set_validation_points(static_cast<uint32_t>(number("validation_points")));
  spec.set_fit_points(static_cast<uint32_t>(number("fit_points")));
  auto problem = CreateNumericsProblem(spec);
  if (!problem.ok()) {
    std::fprintf(stderr, "%s\n", problem.status().ToString().c_str());
    return 2;
  }
  numerics::testing::ReplayOptions options;
  options.candidates = static_cast<uint64_t>(number("candidates"));
  options.seed = static_cast<uint64_t>(number("seed"));
  options.parents = static_cast<uint32_t>(number("parents"));
  options.children = static_cast<uint32_t>(number("children"));
  options.threads = static_cast<int>(number("threads"));
  options.keep = static_cast<size_t>(number("show"));
  options.objective0_tolerance = number("tolerance");
  const numerics::testing::ReplayStats stats = numerics::testing::ReplaySearch(**problem, options);
  std::printf("%s %s on [%s, %s], max_ops %s, version %s, NSGA-II %u+%u, seed %s\n%s",
              args["target"].c_str(), args["mode"].c_str(), args["lower"].c_str(),
              args["upper"].c_str(), args["max_ops"].c_str(),
              (*problem)->EvaluatorVersion().c_str(), options.parents, options.children,
              args["seed"].c_str(), stats.Summary().c_str());
  const int show = static_cast<int>(number("show"));
  for (int i = 0; i < show && i < static_cast<int>(stats.disagreements.size()); ++i) {
    const auto& d = stats.disagreements[i];
    std::printf("\n#%llu (row) vs #%llu, difference %g:\n%s%s\n%s%s\n",
                static_cast<unsigned long long>(d.first_index),
                static_cast<unsigned long long>(d.index), d.difference,
                (*problem)->Render(d.first, RenderFormat::kText).c_str(), Brief(d.cached).c_str(),
                (*problem)->Render(d.candidate, RenderFormat::kText).c_str(),
                Brief(d.fresh).c_str());
  }
  if (number("report") != 0) std::printf("\n%s", (*problem)->Report(stats.history).c_str());
  return 0;
}
