// Evaluator versions that cannot be forgotten: the evaluations of a fixed set of candidates per
// built-in domain are pinned in tests/evaluators/golden/evaluations.txt together with the
// domain's EvaluatorVersion(). Results that change under an unchanged version fail here (old
// cache rows would be served as if nothing had changed): bump the version, then regenerate the
// file with EVOLV_UPDATE_GOLDEN=1.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "evaluators/diffusion/image_data.h"
#include "evaluators/registry.h"
#include "google/protobuf/util/json_util.h"
#include "search/functional_hash.h"

namespace evolv {
namespace {

struct GoldenCase {
  std::string name;
  std::string spec_json;       // a JobSpec
  std::string candidate_json;  // a Candidate
};

constexpr char kProgram[] = "type.googleapis.com/evolv.v1.NumericsProgram";
constexpr char kChoice[] = "type.googleapis.com/evolv.v1.SolverChoice";
constexpr char kSchedule[] = "type.googleapis.com/evolv.v1.DiffusionSchedule";

std::string NumericsSpec(const std::string& target, const std::string& mode) {
  return absl::StrFormat(
      R"({"problem": {"@type": "type.googleapis.com/evolv.v1.NumericsSpec", "target": "%s",
          "lower": 0.5, "upper": 1.5, "mode": "%s", "max_ops": 10, "fit_points": 64}})",
      target, mode);
}

std::string Program(const std::string& constants, const std::string& instructions) {
  return absl::StrFormat(R"({"value": {"@type": "%s", "constants": [%s], "instructions": [%s]}})",
                         kProgram, constants, instructions);
}

std::string LaplacianSpec() {
  return R"({"problem": {"@type": "type.googleapis.com/evolv.v1.SolverSpec",
      "shifted_laplacian": {"grid": 6, "instances": 4, "seed": 3}}})";
}

std::string Choice(int instance, const std::string& kind, double omega) {
  return absl::StrFormat(
      R"({"value": {"@type": "%s", "instance": %d, "kind": "%s", "omega": %.17g}})", kChoice,
      instance, kind, omega);
}

std::string DiffusionSpec(const std::string& schedule, const std::string& sampler) {
  return absl::StrFormat(
      R"({"problem": {"@type": "type.googleapis.com/evolv.v1.DiffusionSpec",
          "mixture": {"dimension": 4, "components": 3, "seed": 5}, "schedule": "%s",
          "sampler": "%s", "steps": 4, "samples": 200, "noise_seed": 2}})",
      schedule, sampler);
}

std::string Schedule(const std::string& steps, const std::string& skipped = "") {
  if (skipped.empty()) {
    return absl::StrFormat(R"({"value": {"@type": "%s", "steps": [%s]}})", kSchedule, steps);
  }
  return absl::StrFormat(R"({"value": {"@type": "%s", "steps": [%s], "skipped": [%s]}})",
                         kSchedule, steps, skipped);
}

// Checked-in models (tests/evaluators/golden/tiny-*.model, made by `evolv train-denoiser` from
// the tiny-*-denoiser.json beside them): the pins hold the evaluator, not the training.
std::string GoldenFile(const std::string& name) {
  return std::string(EVOLV_SOURCE_DIR) + "/tests/evaluators/golden/" + name;
}

std::string LearnedMixtureSpec(const std::string& extra) {
  return absl::StrFormat(
      R"({"problem": {"@type": "type.googleapis.com/evolv.v1.DiffusionSpec",
          "mixture": {"dimension": 4, "components": 3, "seed": 5}, "schedule": "COSINE",
          "sampler": "DDIM", "steps": 4, "samples": 200, "noise_seed": 2,
          "denoiser": {"model": "%s", "blocks": 3, "width": 16}%s}})",
      GoldenFile("tiny-mixture.model"), extra);
}

std::string FashionMnistSpec() {
  return absl::StrFormat(
      R"({"problem": {"@type": "type.googleapis.com/evolv.v1.DiffusionSpec",
          "images": {"dimension": 8, "train_images": 2000, "features": 16}, "schedule": "COSINE",
          "sampler": "DPM_SOLVER_PP_2M", "steps": 4, "samples": 100, "noise_seed": 2,
          "denoiser": {"model": "%s", "blocks": 2, "width": 16}}})",
      GoldenFile("tiny-images.model"));
}

std::vector<GoldenCase> Cases() {
  // Operands: 0 is x, 1..n the constants, then one value per instruction.
  const std::string horner2 =
      Program("1.0, 0.7, 0.3",
              R"({"op": "MUL", "a": 3, "b": 0}, {"op": "ADD", "a": 4, "b": 2},
                 {"op": "MUL", "a": 5, "b": 0}, {"op": "ADD", "a": 6, "b": 1})");
  const std::string rational =
      Program("1.0, 0.5",
              R"({"op": "MUL", "a": 0, "b": 2}, {"op": "ADD", "a": 1, "b": 3},
                 {"op": "SUB", "a": 1, "b": 3}, {"op": "DIV", "a": 4, "b": 5})");
  std::vector<GoldenCase> cases = {
      {"numerics exp real identity", NumericsSpec("exp", "REAL"), Program("", "")},
      {"numerics exp real horner2", NumericsSpec("exp", "REAL"), horner2},
      {"numerics exp real rational", NumericsSpec("exp", "REAL"), rational},
      {"numerics log2 float32 horner2", NumericsSpec("log2", "FLOAT32"), horner2},
      {"numerics tanh float32 rational", NumericsSpec("tanh", "FLOAT32"), rational},
      {"solver laplacian fixed 1.5", LaplacianSpec(), Choice(1, "FIXED", 1.5)},
      {"solver laplacian fixed 1.0", LaplacianSpec(), Choice(2, "FIXED", 1.0)},
      {"solver laplacian optimal", LaplacianSpec(), Choice(3, "INSTANCE_OPTIMAL", 0)},
      {"diffusion cosine ddim uniform", DiffusionSpec("COSINE", "DDIM"),
       Schedule("0, 250, 500, 750")},
      {"diffusion cosine dpm++ searched-like", DiffusionSpec("COSINE", "DPM_SOLVER_PP_2M"),
       Schedule("999, 420, 95, 12")},
      {"diffusion linear ddim trailing", DiffusionSpec("LINEAR", "DDIM"),
       Schedule("0, 333, 666, 999")},
      {"diffusion learned ddim uniform", LearnedMixtureSpec(""), Schedule("0, 250, 500, 750")},
      {"diffusion learned joint skipping", LearnedMixtureSpec(R"(, "joint": {"block_budget": 10})"),
       Schedule("999, 500, 100, 10",
                R"({"step": 500, "blocks": [1]}, {"step": 100, "blocks": [0]})")},
  };
  // Debian's dataset-fashion-mnist, where it is installed (scripts/install-deps installs it).
  if (std::ifstream(std::string(kDefaultImageDirectory) + "/train-images-idx3-ubyte.gz")) {
    cases.push_back({"diffusion fashion-mnist dpm++ uniform", FashionMnistSpec(),
                     Schedule("0, 250, 500, 750")});
  }
  return cases;
}

// domain|version|case|status|objectives (%.17g, comma-separated)
struct GoldenRow {
  std::string domain, version, name, status, objectives;
};

std::string GoldenPath() { return std::string(EVOLV_SOURCE_DIR) + "/tests/evaluators/golden/evaluations.txt"; }

std::vector<GoldenRow> Compute() {
  std::vector<GoldenRow> rows;
  for (const GoldenCase& c : Cases()) {
    v1::JobSpec spec;
    v1::Candidate candidate;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(c.spec_json, &spec).ok()) << c.name;
    EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(c.candidate_json, &candidate).ok())
        << c.name;
    auto problem = BuiltinProblems().Create(spec);
    EXPECT_TRUE(problem.ok()) << c.name << ": " << problem.status();
    if (!problem.ok()) continue;
    const CacheKey key = FunctionalKey(**problem, candidate);
    const v1::Evaluation e = (*problem)->Evaluate(candidate, {EvaluationSeed(key, 0), 0});
    std::string objectives;
    for (double o : e.objectives()) {
      objectives += (objectives.empty() ? "" : ",") + absl::StrFormat("%.17g", o);
    }
    rows.push_back({(*problem)->Domain(), (*problem)->EvaluatorVersion(), c.name,
                    v1::EvaluationStatus_Name(e.status()), objectives});
  }
  return rows;
}

bool Close(const std::string& a, const std::string& b) {
  const std::vector<std::string> x = absl::StrSplit(a, ','), y = absl::StrSplit(b, ',');
  if (x.size() != y.size()) return false;
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i] == y[i]) continue;
    const double u = std::strtod(x[i].c_str(), nullptr), v = std::strtod(y[i].c_str(), nullptr);
    if (!(std::abs(u - v) <= 1e-12 * std::max(std::abs(u), std::abs(v)))) return false;
  }
  return true;
}

TEST(GoldenEvaluationsTest, ResultsChangeOnlyWithTheEvaluatorVersion) {
  const std::vector<GoldenRow> now = Compute();
  ASSERT_FALSE(now.empty());
  if (const char* update = std::getenv("EVOLV_UPDATE_GOLDEN"); update && *update == '1') {
    std::ofstream out(GoldenPath());
    out << "# domain|evaluator version|case|status|objectives — tests/evaluators/golden_test.cc\n";
    for (const GoldenRow& r : now) {
      out << r.domain << '|' << r.version << '|' << r.name << '|' << r.status << '|'
          << r.objectives << '\n';
    }
    GTEST_SKIP() << "rewrote " << GoldenPath();  // regeneration run, asked for by the caller
  }
  std::ifstream in(GoldenPath());
  ASSERT_TRUE(in) << "missing " << GoldenPath() << "; create it with EVOLV_UPDATE_GOLDEN=1";
  std::map<std::string, GoldenRow> pinned;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const std::vector<std::string> f = absl::StrSplit(line, '|');
    ASSERT_EQ(f.size(), 5u) << line;
    pinned[f[2]] = {f[0], f[1], f[2], f[3], f[4]};
  }
  for (const GoldenRow& r : now) {
    auto it = pinned.find(r.name);
    ASSERT_NE(it, pinned.end()) << r.name << " is not pinned; regenerate with EVOLV_UPDATE_GOLDEN=1";
    const GoldenRow& p = it->second;
    const bool same = p.status == r.status && Close(p.objectives, r.objectives);
    if (p.version == r.version) {
      EXPECT_TRUE(same) << r.name << ": the evaluation changed (" << p.status << " "
                        << p.objectives << " -> " << r.status << " " << r.objectives
                        << ") under the unchanged evaluator version " << r.version
                        << ": bump " << r.domain
                        << "'s EvaluatorVersion(), then regenerate with EVOLV_UPDATE_GOLDEN=1";
    } else {
      ADD_FAILURE() << r.name << ": evaluator version " << p.version << " -> " << r.version
                    << "; regenerate the pinned evaluations with EVOLV_UPDATE_GOLDEN=1";
    }
  }
}

}  // namespace
}  // namespace evolv
