// Process-level tests of `evolv run`: the real binary, a real store on disk, real signals.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <thread>

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

TEST_F(CliTest, ReportDirHoldsTheReportOfTheRunAndOfAFinishedJob) {
  const std::string spec = WriteFile("spec.json", Spec(100));
  const Outcome run =
      RunToEnd({"run", spec, "--data-dir", dir_.Sub("d"), "--report-dir", dir_.Sub("new/dir")});
  ASSERT_EQ(run.code, 0) << run.err;
  // report.txt is the report the run printed last (a domain without figures: no PNG files).
  const std::string report = Subprocess::Slurp(dir_.Sub("new/dir/report.txt"));
  ASSERT_NE(report.find("Pareto front"), std::string::npos) << report;
  ASSERT_GE(run.out.size(), report.size());
  EXPECT_EQ(run.out.substr(run.out.size() - report.size()), report);
  EXPECT_NE(run.err.find("wrote report.txt and 0 figures to " + dir_.Sub("new/dir")),
            std::string::npos)
      << run.err;

  // The finished job's report again, written on request.
  const Outcome again =
      RunToEnd({"run", spec, "--data-dir", dir_.Sub("d"), "--report-dir", dir_.Sub("again")});
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(Subprocess::Slurp(dir_.Sub("again/report.txt")), report);

  // A report directory that cannot be one is refused before anything runs.
  const std::string file = WriteFile("a-file", "x");
  const Outcome bad =
      RunToEnd({"run", spec, "--data-dir", dir_.Sub("fresh"), "--report-dir", file});
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("--report-dir: " + file + " exists and is not a directory"),
            std::string::npos)
      << bad.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("fresh")));
}

TEST_F(CliTest, ProgressAndSummaryShowTheObjectiveWithItsLabel) {
  const std::string spec = WriteFile("spec.json", Spec(300));
  const Outcome run = RunToEnd(
      {"run", spec, "--data-dir", dir_.Sub("d"), "--workers", "2", "--progress-every", "0.01"});
  ASSERT_EQ(run.code, 0) << run.err;
  // The numerics error is shown as 10^log10_error, a relative error, never as its log.
  const std::regex progress(R"(\d+/300 evals  best max rel\. error [\d.]+(e-\d\d)?  cache hits)");
  EXPECT_TRUE(std::regex_search(run.err, progress)) << run.err;
  EXPECT_TRUE(std::regex_search(run.out, std::regex(R"(\nbest max rel\. error [\d.]+(e-\d\d)?\n)")))
      << run.out;
  EXPECT_EQ(run.err.find("log10_error"), std::string::npos) << run.err;
}

// Learning to Relax on 30 small systems; no budget: the bandit's instances are its natural end.
constexpr const char* kBanditSpec = R"({"name": "small relax",
  "solver": {"shifted_laplacian": {"grid": 5, "instances": 30, "seed": 1}, "omegas": {"count": 4}},
  "strategy": {"bandit": {"trials": 2}}, "seed": 1, "window": 8})";

TEST_F(CliTest, ABanditJobWithoutABudgetRunsItsInstancesAndCountsThem) {
  const std::string spec = WriteFile("bandit.json", kBanditSpec);
  const Outcome run = RunToEnd(
      {"run", spec, "--data-dir", dir_.Sub("d"), "--workers", "2", "--progress-every", "0.01"});
  ASSERT_EQ(run.code, 0) << run.err;
  EXPECT_NE(run.out.find("\n30/30 instances\n"), std::string::npos) << run.out;
  EXPECT_TRUE(std::regex_search(
      run.out,
      std::regex(
          R"(\nmean iterations: tsallis_inf [\d.]+, tsallis_inf_cb [\d.]+, chebcb [\d.]+\n)")))
      << run.out;
  // Progress counts instances, with their rate; the best single solve is no measure of a bandit.
  EXPECT_TRUE(std::regex_search(
      run.err, std::regex(R"(\d+/30 instances  mean iterations: .*instances/s  ETA)")))
      << run.err;
  EXPECT_EQ(run.err.find("best iterations"), std::string::npos) << run.err;
  EXPECT_EQ(run.out.find("best iterations"), std::string::npos) << run.out;
}

// Whether process `pid` has a handler for `signal` (SigCgt in /proc/PID/status).
bool Catches(pid_t pid, int signal) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("SigCgt:", 0) == 0) {
      return (std::stoull(line.substr(7), nullptr, 16) >> (signal - 1)) & 1;
    }
  }
  return false;
}

TEST_F(CliTest, ARunInAScriptsBackgroundStillStopsOnSigint) {
  // A shell starts a script's background jobs with SIGINT ignored; `evolv run ... &` must catch it
  // anyway, from its start. This spec's problem takes a while to build (a million validation
  // points, twice: to validate the spec and for the job), which is when the first SIGINT comes.
  const std::string slow = WriteFile("slow.json", R"({"name": "slow start",
    "numerics": {"target": "erf", "lower": 0, "upper": 1, "mode": "FLOAT32",
                 "fit_points": 65536, "validation_points": 1000000},
    "budget": {"max_evaluations": 100000}})");
  auto in_background = [&](const std::string& spec, const std::string& data,
                           const std::string& tag) {
    const std::string script =
        R"("$0" run "$1" --data-dir "$2" --workers 1 --progress-every 0.05 & echo $! > "$3"; wait $!)";
    return std::make_unique<Subprocess>(
        std::vector<std::string>{"/bin/sh", "-c", script, EVOLV_BINARY, spec, data,
                                 dir_.Sub(tag + ".pid")},
        dir_.Sub(tag + ".out"), dir_.Sub(tag + ".err"));
  };
  auto pid_of = [&](const std::string& tag) -> pid_t {
    for (int i = 0; i < 500; ++i) {
      const std::string text = Subprocess::Slurp(dir_.Sub(tag + ".pid"));
      if (!text.empty() && text.back() == '\n') return std::stoi(text);
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  };

  // While the problem is being built.
  auto early = in_background(slow, dir_.Sub("early"), "early");
  const pid_t early_pid = pid_of("early");
  ASSERT_GT(early_pid, 0);
  std::string err_when_caught;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  bool caught = false;
  while (!caught && std::chrono::steady_clock::now() < deadline) {
    err_when_caught = early->Stderr();  // before the check: what it had printed by then
    caught = Catches(early_pid, SIGINT);
    if (!caught) std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(caught) << early->Stderr();
  EXPECT_EQ(err_when_caught.find("local workers"), std::string::npos)
      << "SIGINT is caught only once the job runs: " << err_when_caught;
  ASSERT_EQ(::kill(early_pid, SIGINT), 0);
  ASSERT_EQ(early->Wait(60s), 130) << early->Stderr();
  EXPECT_NE(early->Stderr().find("evolv: interrupted"), std::string::npos) << early->Stderr();

  // While the job runs: checkpointed, and the same command resumes it.
  const std::string spec = WriteFile("spec.json", Spec(4000));
  auto running = in_background(spec, dir_.Sub("d"), "running");
  const pid_t running_pid = pid_of("running");
  ASSERT_GT(running_pid, 0);
  ASSERT_TRUE(running->WaitForStderr(" evals/s", 60s)) << running->Stderr();
  ASSERT_EQ(::kill(running_pid, SIGINT), 0);
  ASSERT_EQ(running->Wait(30s), 130) << running->Stderr();
  EXPECT_NE(running->Stderr().find("Run the same command again to resume"), std::string::npos)
      << running->Stderr();
  const Outcome resumed = RunToEnd({"run", spec, "--data-dir", dir_.Sub("d"), "--workers", "2"});
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_NE(resumed.err.find("resuming job"), std::string::npos) << resumed.err;
}

TEST_F(CliTest, WithoutAServerTheClientSaysHowToStartOneAndPrintsNoTable) {
  // Nothing listens on port 1.
  const Outcome listed = RunToEnd({"list", "--server", "127.0.0.1:1"});
  EXPECT_EQ(listed.code, 1);
  EXPECT_EQ(listed.out, "") << "no table header before the failure";
  EXPECT_NE(listed.err.find("evolv: cannot reach evolvd at 127.0.0.1:1 (UNAVAILABLE: "),
            std::string::npos)
      << listed.err;
  EXPECT_NE(listed.err.find("build/services/evolvd"), std::string::npos) << listed.err;
  EXPECT_NE(listed.err.find("EVOLV_SERVER"), std::string::npos) << listed.err;

  // A host without a port means evolvd's default port, 50051 (not gRPC's 443).
  const Outcome default_port = RunToEnd({"status", "j0000000000000000", "--server", "127.0.0.1"});
  if (default_port.code == 1 && default_port.err.find("cannot reach") != std::string::npos) {
    EXPECT_NE(default_port.err.find("cannot reach evolvd at 127.0.0.1:50051 "), std::string::npos)
        << default_port.err;
  }  // else an evolvd listens on 50051 on this machine and answered

  // An unknown state is bad usage, before any call, and the message lists the states.
  const Outcome bad_state = RunToEnd({"list", "--state", "runing", "--server", "127.0.0.1:1"});
  EXPECT_EQ(bad_state.code, 2);
  EXPECT_NE(bad_state.err.find("--state: unknown state 'runing' (one of PENDING, RUNNING, PAUSED, "
                               "SUCCEEDED, FAILED, CANCELLED, in any case)"),
            std::string::npos)
      << bad_state.err;
}

struct BadSpec {
  const char* name;
  std::string text;
  const char* message;
};

// A text-format spec whose name holds the byte 0xff, which is not UTF-8.
constexpr char kNotUtf8Spec[] =
    "name: \"bad\\377\"\nnumerics { target: \"exp\" lower: 0 upper: 1 }\n"
    "budget { max_evaluations: 10 }\n";

TEST_F(CliTest, AStudyRunsItsCommandOnlyWithAllowCommandsAndIsServedFromTheStoreAfter) {
  // The objective: a shell script of x and the category, through its JSON line.
  const std::string script = WriteFile("objective.sh", R"sh(echo "training..."
awk -v x="$1" -v k="$2" 'BEGIN { printf "{\"accuracy\": %.17g}\n", 1 - (x - 0.3) ^ 2 - (k == "b") }'
)sh");
  auto spec = [&](const std::string& name) {
    return WriteFile(name + ".json", R"({"name": ")" + name + R"(",
      "study": {
        "parameters": [{"name": "x", "real": {"low": 0, "high": 1, "digits": 3}},
                       {"name": "kind", "categorical": {"choices": ["a", "b"]}}],
        "objectives": [{"name": "accuracy", "direction": "MAXIMIZE"}],
        "command": {"argv": ["sh", ")" + script +
                                         R"(", "{x}", "{kind}"]}},
      "strategy": {"regularized_evolution": {"population_size": 8, "tournament_size": 3}},
      "budget": {"max_evaluations": 40}, "seed": 5, "window": 4})");
  };
  const Outcome refused = RunToEnd({"run", spec("first"), "--data-dir", dir_.Sub("d")});
  EXPECT_EQ(refused.code, 2);
  EXPECT_NE(refused.err.find("--allow-commands"), std::string::npos) << refused.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("d")));  // nothing stored

  const Outcome first =
      RunToEnd({"run", spec("first"), "--data-dir", dir_.Sub("d"), "--allow-commands"});
  ASSERT_EQ(first.code, 0) << first.err;
  // Maximized: shown as the accuracy itself, near its best of 1 at x = 0.3, kind a.
  EXPECT_NE(first.out.find("best trials (by accuracy, maximized)"), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("trials: 40 (40 OK"), std::string::npos) << first.out;
  const Outcome second =
      RunToEnd({"run", spec("second"), "--data-dir", dir_.Sub("d"), "--allow-commands"});
  ASSERT_EQ(second.code, 0) << second.err;
  EXPECT_NE(second.out.find("cache: 40 hits, 0 misses"), std::string::npos) << second.out;
}

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
      {"trailing_comma", R"({"numerics": {"target": "exp", "lower": 0, "upper": 1,},
                             "budget": {"max_evaluations": 10}})",
       "malformed JSON job spec: line 1, column 54: trailing comma before '}'"},
      {"absurd_interval", numerics(R"("target": "exp2", "lower": -1e308, "upper": 1e308)"),
       "numerics.lower: |-1e+308| exceeds the limit 1e+06"},
      {"target_overflows", numerics(R"("target": "exp2", "lower": 0, "upper": 20000)"),
       "numerics.upper: exp2(20000) overflows in long double"},
      // Text format takes the escape; JSON refuses such bytes itself.
      {"name_not_utf8", kNotUtf8Spec, "name: not valid UTF-8"},
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
  EXPECT_NE(missing.err.find("no-such.json: cannot open for reading"), std::string::npos)
      << missing.err;
  const Outcome usage = RunToEnd({"run"});
  EXPECT_EQ(usage.code, 2);
  EXPECT_EQ(snapshot(), before);
  // submit checks the encoding before it calls the server (none listens on port 1), which would
  // otherwise refuse the bytes without naming the field.
  const Outcome submitted =
      RunToEnd({"submit", WriteFile("submit.txtpb", kNotUtf8Spec), "--server", "127.0.0.1:1"});
  EXPECT_EQ(submitted.code, 2) << submitted.err;
  EXPECT_NE(submitted.err.find("submit.txtpb: name: not valid UTF-8"), std::string::npos)
      << submitted.err;
}

TEST_F(CliTest, AFifoOrADeviceAsTheSpecFileExitsTwoAtOnce) {
  const std::string fifo = dir_.Sub("fifo.json");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::filesystem::create_symlink("/dev/zero", dir_.Sub("zero.json"));
  // Without the check each would block (the FIFO) or read forever (/dev/zero): 10 s is ample.
  auto run = [&](std::vector<std::string> args) -> Outcome {
    const auto start = std::chrono::steady_clock::now();
    auto process = Start(std::move(args));
    const auto code = process->Wait(10s);
    EXPECT_TRUE(code.has_value()) << "evolv did not finish within 10 s";
    EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
    return {code.value_or(-1), process->Stdout(), process->Stderr()};
  };
  const Outcome from_fifo = run({"run", fifo, "--data-dir", dir_.Sub("d")});
  EXPECT_EQ(from_fifo.code, 2) << from_fifo.err;
  EXPECT_NE(from_fifo.err.find(fifo + ": not a regular file (a FIFO)"), std::string::npos)
      << from_fifo.err;
  const Outcome from_zero = run({"run", dir_.Sub("zero.json"), "--data-dir", dir_.Sub("d")});
  EXPECT_EQ(from_zero.code, 2) << from_zero.err;
  EXPECT_NE(from_zero.err.find("zero.json: not a regular file (a character device)"),
            std::string::npos)
      << from_zero.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("d")));
  // submit reads the spec before it calls the server (none listens on port 1).
  const Outcome submitted = run({"submit", fifo, "--server", "127.0.0.1:1"});
  EXPECT_EQ(submitted.code, 2) << submitted.err;
  EXPECT_NE(submitted.err.find(fifo + ": not a regular file (a FIFO)"), std::string::npos)
      << submitted.err;
}

}  // namespace
}  // namespace evolv
