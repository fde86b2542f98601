// Process-level tests of `evolv run`: the real binary, a real store on disk, real signals.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

#include "storage/store.h"
#include "tests/support/engine_driver.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace evolv {
namespace {

using namespace std::chrono_literals;

// A small numerics search: quick, but long enough to be interrupted.
std::string Spec(uint64_t evaluations, const std::string& name = "cli test") {
  return R"({
    "name": ")" +
         name + R"(",
    "numerics": {"target": "exp2", "lower": 0, "upper": 1, "max_ops": 6,
                 "fit_points": 128, "validation_points": 50000},
    "strategy": {"nsga2": {"parents": 16, "children": 16}},
    "budget": {"max_evaluations": )" +
         std::to_string(evaluations) + R"(},
    "seed": 7,
    "window": 6
  })";
}

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

class CliTest : public ::testing::Test {
 protected:
  std::string WriteFile(const std::string& name, const std::string& text) {
    const std::string path = dir_.Sub(name);
    std::ofstream(path) << text;
    return path;
  }

  std::unique_ptr<Subprocess> Start(std::vector<std::string> args) {
    args.insert(args.begin(), EVOLV_BINARY);
    const std::string tag = std::to_string(runs_++);
    return std::make_unique<Subprocess>(args, dir_.Sub("out" + tag), dir_.Sub("err" + tag));
  }

  Outcome RunToEnd(std::vector<std::string> args) {
    auto process = Start(std::move(args));
    const auto code = process->Wait(120s);
    EXPECT_TRUE(code.has_value()) << "evolv did not finish";
    return {code.value_or(-1), process->Stdout(), process->Stderr()};
  }

  // (candidate, objectives) of every history row of the store's only job.
  std::vector<std::string> History(const std::string& data_dir) {
    auto store = Store::Open(data_dir);
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return {};
    auto jobs = (*store)->ListJobs();
    EXPECT_EQ(jobs->size(), 1u);
    return testing::HistoryFingerprint(**store, jobs->front().id());
  }

  TempDir dir_;
  int runs_ = 0;
};

TEST_F(CliTest, SameHistoryWithOneWorkerAndWithFour) {
  const std::string spec = WriteFile("spec.json", Spec(500));
  const Outcome one = RunToEnd({"run", spec, "--data-dir", dir_.Sub("one"), "--workers", "1"});
  const Outcome four = RunToEnd({"run", spec, "--data-dir", dir_.Sub("four"), "--workers", "4"});
  ASSERT_EQ(one.code, 0) << one.err;
  ASSERT_EQ(four.code, 0) << four.err;
  const auto history = History(dir_.Sub("one"));
  EXPECT_EQ(history.size(), 500u);
  EXPECT_EQ(history, History(dir_.Sub("four")));
  // The closing report (front, baselines, best program) is the same too.
  EXPECT_NE(one.out.find("Pareto front"), std::string::npos) << one.out;
}

TEST_F(CliTest, SigkillMidSearchThenResumeEndsLikeAnUninterruptedRun) {
  const std::string spec = WriteFile("spec.json", Spec(4000));
  const Outcome whole = RunToEnd({"run", spec, "--data-dir", dir_.Sub("whole"), "--workers", "2"});
  ASSERT_EQ(whole.code, 0) << whole.err;

  auto victim = Start({"run", spec, "--data-dir", dir_.Sub("killed"), "--workers", "2",
                       "--checkpoint-results", "20", "--progress-every", "0.05"});
  // Kill once a progress line shows more than 100 results (several checkpoints).
  const std::regex progress(R"((\d+)/4000 evals)");
  const bool far_enough = victim->WaitForStderr(
      [&](const std::string& err) {
        for (std::sregex_iterator it(err.begin(), err.end(), progress), end; it != end; ++it) {
          if (std::stoi((*it)[1]) > 100) return true;
        }
        return false;
      },
      30s);
  ASSERT_TRUE(far_enough) << victim->Stderr();
  victim->Signal(SIGKILL);
  ASSERT_EQ(victim->Wait(10s), 128 + SIGKILL);

  const Outcome resumed =
      RunToEnd({"run", spec, "--data-dir", dir_.Sub("killed"), "--workers", "2"});
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(resumed.err, m, std::regex(R"(resuming job \S+ at (\d+))")))
      << resumed.err;
  EXPECT_GT(std::stoi(m[1]), 0);
  EXPECT_LT(std::stoi(m[1]), 1500);
  EXPECT_EQ(History(dir_.Sub("killed")), History(dir_.Sub("whole")));
  EXPECT_EQ(resumed.out.substr(resumed.out.find("Pareto front")),
            whole.out.substr(whole.out.find("Pareto front")));
}

TEST_F(CliTest, CtrlCCheckpointsAndTheSameCommandResumes) {
  const std::string spec = WriteFile("spec.json", Spec(4000));
  auto first = Start({"run", spec, "--data-dir", dir_.Sub("d"), "--workers", "2"});
  ASSERT_TRUE(first->WaitForStderr(" evals/s", 60s)) << first->Stderr();
  first->Signal(SIGINT);
  ASSERT_EQ(first->Wait(30s), 130) << first->Stderr();
  EXPECT_NE(first->Stderr().find("Run the same command again to resume"), std::string::npos);

  const Outcome second = RunToEnd({"run", spec, "--data-dir", dir_.Sub("d"), "--workers", "2"});
  ASSERT_EQ(second.code, 0) << second.err;
  EXPECT_NE(second.err.find("resuming job"), std::string::npos) << second.err;
  EXPECT_EQ(History(dir_.Sub("d")).size(), 4000u);

  // A finished job is not run again: its results are shown.
  const Outcome third = RunToEnd({"run", spec, "--data-dir", dir_.Sub("d")});
  EXPECT_EQ(third.code, 0);
  EXPECT_NE(third.err.find("had already ended"), std::string::npos) << third.err;
  EXPECT_NE(third.out.find("Pareto front"), std::string::npos);
}

TEST_F(CliTest, CacheHitsSurviveARestart) {
  const std::string first = WriteFile("first.json", Spec(300, "first"));
  const std::string second = WriteFile("second.json", Spec(300, "second"));
  const Outcome a = RunToEnd({"run", first, "--data-dir", dir_.Sub("d")});
  ASSERT_EQ(a.code, 0) << a.err;
  // Another job (another name, so another id) with the same search, in a new process: every
  // candidate's key is in the store already.
  const Outcome b = RunToEnd({"run", second, "--data-dir", dir_.Sub("d")});
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_NE(b.out.find("cache: 300 hits, 0 misses"), std::string::npos) << b.out;
}

struct BadSpec {
  const char* name;
  std::string text;
  const char* message;
};

TEST_F(CliTest, BadSpecsExitTwoNamingTheFieldAndTouchNothing) {
  // A store with a finished job in it, to check that bad specs leave it byte for byte alone.
  const std::string good = WriteFile("good.json", Spec(50));
  ASSERT_EQ(RunToEnd({"run", good, "--data-dir", dir_.Sub("d")}).code, 0);
  auto snapshot = [&] {
    std::map<std::string, std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(dir_.Sub("d"))) {
      files[entry.path().filename()] = Subprocess::Slurp(entry.path());
    }
    return files;
  };
  const auto before = snapshot();

  auto numerics = [](const std::string& fields) {
    return R"({"numerics": {)" + fields + R"(}, "budget": {"max_evaluations": 10}})";
  };
  const std::vector<BadSpec> cases = {
      {"unknown_target", numerics(R"("target": "gamma", "lower": 0, "upper": 1)"),
       "numerics.target: unknown target 'gamma'"},
      {"empty_interval", numerics(R"("target": "exp", "lower": 1, "upper": 1)"),
       "numerics.lower: interval is empty or reversed"},
      {"reversed_interval", numerics(R"("target": "exp", "lower": 2, "upper": 1)"),
       "numerics.lower: interval is empty or reversed"},
      {"log_undefined", numerics(R"("target": "log", "lower": -1, "upper": 1)"),
       "numerics.lower: log is undefined on [-1, 1]"},
      {"zero_budget", R"({"numerics": {"target": "exp", "lower": 0, "upper": 1}})",
       "budget: zero budget"},
      {"too_many_ops", numerics(R"("target": "exp", "lower": 0, "upper": 1, "max_ops": 1000)"),
       "numerics.max_ops"},
      {"window", R"({"numerics": {"target": "exp", "lower": 0, "upper": 1},
                     "budget": {"max_evaluations": 10}, "window": 100000})",
       "window: 100000 exceeds the limit 4096"},
      {"malformed", R"({"numerics": {"target": "exp", )", "malformed JSON job spec"},
      {"unknown_field", R"({"numerix": {}})", "malformed JSON job spec"},
  };
  for (const auto& bad : cases) {
    const std::string path = WriteFile(std::string(bad.name) + ".json", bad.text);
    const Outcome run = RunToEnd({"run", path, "--data-dir", dir_.Sub("d")});
    EXPECT_EQ(run.code, 2) << bad.name << ": " << run.err;
    EXPECT_NE(run.err.find(bad.message), std::string::npos) << bad.name << ": " << run.err;
    // Nothing is created for a bad spec either.
    const Outcome fresh =
        RunToEnd({"run", path, "--data-dir", dir_.Sub(std::string("new-") + bad.name)});
    EXPECT_EQ(fresh.code, 2);
    EXPECT_FALSE(std::filesystem::exists(dir_.Sub(std::string("new-") + bad.name))) << bad.name;
  }
  const Outcome missing = RunToEnd({"run", dir_.Sub("no-such.json"), "--data-dir", dir_.Sub("d")});
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("cannot read the spec file"), std::string::npos) << missing.err;
  const Outcome usage = RunToEnd({"run"});
  EXPECT_EQ(usage.code, 2);
  EXPECT_EQ(snapshot(), before);
}

}  // namespace
}  // namespace evolv
