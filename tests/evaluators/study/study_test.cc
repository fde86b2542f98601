// The study domain: its spec's validation, canonical values and keys, the command evaluator run
// on real child processes, the worker's refusal without --allow-commands, and whole jobs through
// the actors (a second job of the same study served from the store).
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "actors/local_runtime.h"
#include "actors/worker.h"
#include "evaluators/registry.h"
#include "evaluators/study/study_problem.h"
#include "google/protobuf/text_format.h"
#include "search/functional_hash.h"
#include "storage/store.h"
#include "tests/support/temp_dir.h"

namespace evolv {
namespace {

using namespace std::chrono_literals;

v1::StudySpec Parse(const std::string& text) {
  v1::StudySpec spec;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &spec)) << text;
  return spec;
}

// A study whose command is `sh SCRIPT {x} {kind}`; the script prints {"loss": (x-1)^2,
// "accuracy": 1 - (x-1)^2, "extra": 7} unless $MODE says to fail in some way.
class StudyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    script_ = dir_.Sub("objective.sh");
    std::ofstream(script_) << R"sh(x="$1"
case "$MODE" in
  exit) echo "something went wrong" >&2; exit 3 ;;
  sleep) sleep 30 & echo $! > "$PIDFILE"; wait ;;
  nan) echo '{"loss": NaN}' ; exit 0 ;;
  text) echo '{"loss": "low"}' ; exit 0 ;;
  missing) echo '{"other": 1}' ; exit 0 ;;
  prose) echo 'done' ; exit 0 ;;
  pwd) printf '{"loss": %d, "accuracy": 0}\n' "$(ls | wc -l)"; exit 0 ;;
esac
echo "progress line"
awk -v x="$x" -v k="$2" 'BEGIN { l = (x - 1) * (x - 1); if (k == "b") l += 10;
  printf "{\"loss\": %.17g, \"accuracy\": %.17g, \"extra\": 7}\n", l, 1 - l }'
)sh";
  }

  v1::StudySpec Spec(const std::string& mode = "", double timeout = 0) {
    v1::StudySpec spec = Parse(R"(
      parameters { name: "x" real { low: -2 high: 3 } }
      parameters { name: "kind" categorical { choices: "a" choices: "b" } }
      objectives { name: "loss" }
      objectives { name: "accuracy" direction: MAXIMIZE }
    )");
    auto* command = spec.mutable_command();
    command->add_argv("sh");
    command->add_argv(script_);
    command->add_argv("{x}");
    command->add_argv("{kind}");
    if (!mode.empty()) (*command->mutable_env())["MODE"] = mode;
    command->set_timeout_seconds(timeout);
    return spec;
  }

  std::unique_ptr<Problem> Build(const v1::StudySpec& spec) {
    auto problem = CreateStudyProblem(spec);
    EXPECT_TRUE(problem.ok()) << problem.status();
    return problem.ok() ? std::move(*problem) : nullptr;
  }

  static v1::Candidate Trial(std::vector<double> values) {
    v1::StudyTrial trial;
    trial.mutable_values()->Add(values.begin(), values.end());
    return PackCandidate(trial);
  }

  TempDir dir_;
  std::string script_;
};

TEST_F(StudyTest, BadSpecsAreInvalidArgumentNamingTheField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"(objectives { name: "y" } command { argv: "true" })", "study.parameters:"},
      {R"(parameters { name: "x" real { low: 2 high: 1 } } objectives { name: "y" }
          command { argv: "true" })",
       "study.parameters[0].real.high"},
      {R"(parameters { name: "x" real { low: 0 high: 1 log: true } } objectives { name: "y" }
          command { argv: "true" })",
       "study.parameters[0].real.low"},
      {R"(parameters { name: "n" integer { low: 0 high: 9 log: true } } objectives { name: "y" }
          command { argv: "true" })",
       "study.parameters[0].integer.low"},
      {R"(parameters { name: "x" integer { low: 0 high: 1 } }
          parameters { name: "x" integer { low: 0 high: 1 } } objectives { name: "y" }
          command { argv: "true" })",
       "study.parameters[1].name: duplicate"},
      {R"(parameters { name: "x" categorical { choices: "a" choices: "a" } }
          objectives { name: "y" } command { argv: "true" })",
       "study.parameters[0].categorical.choices[1]"},
      {R"(parameters { name: "1x" integer { low: 0 high: 1 } } objectives { name: "y" }
          command { argv: "true" })",
       "study.parameters[0].name"},
      {R"(parameters { name: "x" integer { low: 0 high: 1 } } command { argv: "true" })",
       "study.objectives:"},
      {R"(parameters { name: "x" integer { low: 0 high: 1 } } objectives { name: "y" }
          objectives { name: "y" } command { argv: "true" })",
       "study.objectives[1].name: duplicate"},
      {R"(parameters { name: "x" integer { low: 0 high: 1 } } objectives { name: "y" })",
       "study.command.argv"},
      {R"(parameters { name: "x" integer { low: 0 high: 1 } } objectives { name: "y" }
          command { argv: "run" argv: "--lr={lr}" })",
       "study.command.argv[1]: unknown placeholder {lr}"},
      {R"(parameters { name: "x" integer { low: 0 high: 1 } } objectives { name: "y" }
          command { argv: "run" argv: "{x" })",
       "study.command.argv[1]"},
      {R"(parameters { name: "x" real { low: 0 high: 1 step: 0.1 log: true } }
          objectives { name: "y" } command { argv: "true" })",
       "study.parameters[0].real"},
      {R"(parameters { name: "x" integer { low: 0 high: 1 } } objectives { name: "y" }
          command { argv: "true" timeout_seconds: -1 })",
       "study.command.timeout_seconds"},
      {R"(parameters { name: "x" integer { low: 0 high: 1 } } objectives { name: "y" }
          command { argv: "true" env { key: "A=B" value: "1" } })",
       "study.command.env"},
      {R"(parameters { name: "x" } objectives { name: "y" } command { argv: "true" })",
       "study.parameters[0]: set one of"},
  };
  for (const auto& [text, field] : cases) {
    auto problem = CreateStudyProblem(Parse(text));
    ASSERT_FALSE(problem.ok()) << text;
    EXPECT_TRUE(absl::IsInvalidArgument(problem.status())) << problem.status();
    EXPECT_NE(problem.status().message().find(field), std::string::npos)
        << problem.status().message() << "\nwanted: " << field;
  }
}

TEST_F(StudyTest, ProposedValuesAreCanonicalAndInRange) {
  auto space = StudySpace::Create(Parse(R"(
      parameters { name: "lr" real { low: 1e-5 high: 0.1 log: true digits: 3 } }
      parameters { name: "frac" real { low: 0 high: 1 step: 0.25 } }
      parameters { name: "width" integer { low: 8 high: 1024 log: true } }
      parameters { name: "depth" integer { low: -3 high: 3 } }
      parameters { name: "act" categorical { choices: "relu" choices: "tanh" choices: "gelu" } }
      objectives { name: "y" } command { argv: "run" argv: "--lr={lr}" argv: "{{{act}}}" })"));
  ASSERT_TRUE(space.ok()) << space.status();
  Rng rng(5);
  std::vector<double> values = space->Random(rng);
  std::set<double> fractions, depths;
  for (int i = 0; i < 2000; ++i) {
    values = i % 3 == 0 ? space->Random(rng) : space->Mutate(values, rng);
    ASSERT_TRUE(space->Check(values).ok()) << space->Check(values);
    EXPECT_GE(values[0], 1e-5);
    EXPECT_LE(values[0], 0.1);
    EXPECT_GE(values[2], 8);
    EXPECT_LE(values[2], 1024);
    fractions.insert(values[1]);
    depths.insert(values[3]);
  }
  EXPECT_EQ(fractions, (std::set<double>{0, 0.25, 0.5, 0.75, 1}));
  EXPECT_EQ(depths, (std::set<double>{-3, -2, -1, 0, 1, 2, 3}));
  // Rounded to the parameter's digits; a grid's nearest point; a fixed point once canonical.
  EXPECT_EQ(space->Canonical(0, 0.0123456), 0.0123);
  EXPECT_EQ(space->Canonical(0, 0.0123), 0.0123);
  EXPECT_EQ(space->Canonical(1, 0.3), 0.25);
  EXPECT_EQ(space->Canonical(2, 5000), 1024);
  EXPECT_FALSE(space->Check({0.0123456, 0.25, 8, 0, 0}).ok());
  // The command gets the shortest decimal of each value; {{ and }} are braces.
  EXPECT_EQ(space->Argv({0.0123, 0.25, 8, 0, 2}),
            (std::vector<std::string>{"run", "--lr=0.0123", "{gelu}"}));
}

TEST_F(StudyTest, TheCommandsJsonLineGivesTheObjectivesMaximizedOnesNegated) {
  auto problem = Build(Spec());
  ASSERT_NE(problem, nullptr);
  const v1::Evaluation e = problem->Evaluate(Trial({3, 0}), {});
  ASSERT_EQ(e.status(), v1::OK) << e.error();
  ASSERT_EQ(e.objectives_size(), 2);
  EXPECT_DOUBLE_EQ(e.objectives(0), 4);  // loss (3 - 1)^2
  EXPECT_DOUBLE_EQ(e.objectives(1), 3);  // accuracy 1 - 4 = -3, maximized: stored negated
  EXPECT_DOUBLE_EQ(e.metrics().at("accuracy"), -3);
  EXPECT_DOUBLE_EQ(e.metrics().at("extra"), 7);
  const v1::Evaluation b = problem->Evaluate(Trial({3, 1}), {});
  EXPECT_DOUBLE_EQ(b.objectives(0), 14);  // the categorical reached the command as "b"
  EXPECT_EQ(problem->ObjectiveDisplays()[1].scale(), v1::ObjectiveDisplay::NEGATED);
}

TEST_F(StudyTest, ACommandThatFailsIsAFailedTrialWithTheReason) {
  struct Case {
    std::string mode;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {"exit", "exited with status 3; stderr: something went wrong"},
           {"nan", "not a JSON object"},
           {"text", "objective 'loss' is not a finite number"},
           {"missing", "the command's JSON line: no objective 'loss'"},
           {"prose", "not a JSON object: done"},
       }) {
    auto problem = Build(Spec(c.mode));
    const v1::Evaluation e = problem->Evaluate(Trial({0, 0}), {});
    EXPECT_EQ(e.status(), v1::FAILED) << c.mode;
    EXPECT_NE(e.error().find(c.error), std::string::npos) << c.mode << ": " << e.error();
  }
  v1::StudySpec missing = Spec();
  missing.mutable_command()->set_argv(0, "/nonexistent/evolv-objective");
  const v1::Evaluation e = Build(missing)->Evaluate(Trial({0, 0}), {});
  EXPECT_EQ(e.status(), v1::FAILED);
  EXPECT_NE(e.error().find("cannot start /nonexistent/evolv-objective"), std::string::npos)
      << e.error();
}

TEST_F(StudyTest, ACommandPastItsTimeLimitIsKilledWithItsChildren) {
  v1::StudySpec spec = Spec("sleep", 0.3);
  const std::string pid_file = dir_.Sub("sleep.pid");
  (*spec.mutable_command()->mutable_env())["PIDFILE"] = pid_file;
  auto problem = Build(spec);
  const auto start = std::chrono::steady_clock::now();
  const v1::Evaluation e = problem->Evaluate(Trial({0, 0}), {});
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);  // not the 30 s of its sleep
  EXPECT_EQ(e.status(), v1::FAILED);
  EXPECT_NE(e.error().find("past its time limit of 0.3 s"), std::string::npos) << e.error();
  // The command's own child (the sleep) went with it.
  pid_t child = 0;
  std::ifstream(pid_file) >> child;
  ASSERT_GT(child, 0);
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    // Gone, or dead and not yet reaped by whoever adopted it (a zombie, state Z).
    std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
    std::string pid_field, name, state;
    gone = !(stat >> pid_field >> name >> state) || state == "Z";
    if (!gone) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(gone) << "pid " << child << " outlived its trial";
}

TEST_F(StudyTest, WorkingDirectoryAndEnvironmentReachTheCommand) {
  TempDir work;
  for (int i = 0; i < 3; ++i) std::ofstream(work.Sub("f" + std::to_string(i))) << i;
  v1::StudySpec spec = Spec("pwd");
  spec.mutable_command()->set_working_dir(work.path());
  const v1::Evaluation e = Build(spec)->Evaluate(Trial({0, 0}), {});
  ASSERT_EQ(e.status(), v1::OK) << e.error();
  EXPECT_EQ(e.objectives(0), 3);  // the files of its working directory
}

TEST_F(StudyTest, KeysFollowTheCanonicalValuesAndTheCommandNotTheBounds) {
  auto problem = Build(Spec());
  const CacheKey key = FunctionalKey(*problem, Trial({0.5, 1}));
  EXPECT_EQ(FunctionalKey(*problem, Trial({0.5, 1})), key);
  EXPECT_NE(FunctionalKey(*problem, Trial({0.25, 1})), key);
  EXPECT_NE(FunctionalKey(*problem, Trial({0.5, 0})), key);
  // Narrower bounds and another time limit: the same evaluations, so the same keys.
  v1::StudySpec narrower = Spec("", 60);
  narrower.mutable_parameters(0)->mutable_real()->set_low(0);
  EXPECT_EQ(FunctionalKey(*Build(narrower), Trial({0.5, 1})), key);
  // Another command, another environment or another objective: other keys.
  v1::StudySpec other = Spec();
  other.mutable_command()->add_argv("--more");
  EXPECT_NE(FunctionalKey(*Build(other), Trial({0.5, 1})), key);
  EXPECT_NE(FunctionalKey(*Build(Spec("exit")), Trial({0.5, 1})), key);
  v1::StudySpec direction = Spec();
  direction.mutable_objectives(1)->set_direction(v1::StudyObjective::MINIMIZE);
  EXPECT_NE(FunctionalKey(*Build(direction), Trial({0.5, 1})), key);
  // A value that is not canonical or out of range is refused before the cache.
  EXPECT_TRUE(problem->CheckFeasible(Trial({0.1234567891, 1})).has_value());
  EXPECT_TRUE(problem->CheckFeasible(Trial({7, 1})).has_value());
  EXPECT_TRUE(problem->CheckFeasible(Trial({0.5})).has_value());
  EXPECT_FALSE(problem->CheckFeasible(Trial({0.5, 1})).has_value());
}

v1::JobRecord StudyJob(const std::string& id, const v1::StudySpec& study, uint64_t evaluations) {
  v1::JobRecord job;
  job.set_id(id);
  v1::JobSpec& spec = *job.mutable_spec();
  spec.set_name(id);
  spec.mutable_problem()->PackFrom(study);
  spec.mutable_strategy()->mutable_regularized_evolution()->set_population_size(8);
  spec.mutable_strategy()->mutable_regularized_evolution()->set_tournament_size(3);
  spec.mutable_budget()->set_max_evaluations(evaluations);
  spec.set_seed(11);
  spec.set_window(4);
  job.set_state(v1::RUNNING);
  return job;
}

TEST_F(StudyTest, OnlyAWorkerThatAllowsCommandsRunsThem) {
  v1::EvalRequest request;
  request.set_job_id("j");
  request.mutable_spec()->mutable_problem()->PackFrom(Spec());
  *request.mutable_candidate() = Trial({1, 0});
  Evaluator refusing("w", BuiltinProblems());
  const v1::Evaluation refused = refusing.Run(request);
  EXPECT_EQ(refused.status(), v1::FAILED);
  EXPECT_NE(refused.error().find("--allow-commands"), std::string::npos) << refused.error();
  Evaluator allowing("w", BuiltinProblems(), true);
  const v1::Evaluation ran = allowing.Run(request);
  EXPECT_EQ(ran.status(), v1::OK) << ran.error();
  EXPECT_EQ(ran.objectives(0), 0);

  // Through the dispatcher: workers that do not allow commands are never sent a study's
  // evaluations (none is told, none fails); the job waits for one that does.
  TempDir data;
  auto store = Store::Open(data.path());
  ASSERT_TRUE(store.ok());
  auto engine = JobEngine::Create(StudyJob("waits", Spec(), 10), store->get(), BuiltinProblems());
  ASSERT_TRUE(engine.ok()) << engine.status();
  LocalRuntime runtime(2, BuiltinProblems());
  const auto start = std::chrono::steady_clock::now();
  auto outcome = runtime.RunJob(std::move(*engine), CoordinatorOptions{}, nullptr,
                                [&] { return std::chrono::steady_clock::now() - start > 500ms; });
  EXPECT_TRUE(outcome.interrupted);
  EXPECT_EQ((*store)->GetCheckpoint("waits")->told(), 0u);
}

TEST_F(StudyTest, AStudyRunsOnWorkersAndASecondJobIsServedFromTheStore) {
  TempDir data;
  auto store = Store::Open(data.path());
  ASSERT_TRUE(store.ok());
  LocalRuntime runtime(2, BuiltinProblems(), {}, {}, /*allow_commands=*/true);
  for (const std::string id : {"first", "second"}) {
    auto engine = JobEngine::Create(StudyJob(id, Spec(), 24), store->get(), BuiltinProblems());
    ASSERT_TRUE(engine.ok()) << engine.status();
    auto outcome = runtime.RunJob(std::move(*engine), CoordinatorOptions{}, nullptr, nullptr);
    ASSERT_EQ(outcome.state, v1::SUCCEEDED) << outcome.error;
  }
  auto first = (*store)->ReadHistory("first");
  auto second = (*store)->ReadHistory("second");
  ASSERT_EQ(first->size(), 24u);
  ASSERT_EQ(second->size(), 24u);
  for (size_t i = 0; i < first->size(); ++i) {
    EXPECT_EQ((*first)[i].evaluation().status(), v1::OK) << (*first)[i].evaluation().error();
    EXPECT_TRUE((*second)[i].cache_hit()) << i;
    EXPECT_EQ((*second)[i].evaluation().objectives(0), (*first)[i].evaluation().objectives(0));
  }
  // The report names the best trial with its parameters.
  auto problem = Build(Spec());
  const std::string report = problem->Report(*first);
  EXPECT_NE(report.find("trials: 24 (24 OK"), std::string::npos) << report;
  EXPECT_NE(report.find("best trials (by loss)"), std::string::npos) << report;
  EXPECT_EQ(problem->Charts(*first).size(), 3u);
}

}  // namespace
}  // namespace evolv
