// Remote workers over CAF's middleman, with real processes on loopback: `evolv run` opens a
// cluster port (the same dispatcher and gatekeeper evolvd uses) and evolv-worker processes join.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include "storage/store.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace evolv {
namespace {

using namespace std::chrono_literals;

std::string Spec(uint64_t evaluations) {
  return R"({
    "name": "cluster test",
    "numerics": {"target": "exp2", "lower": 0, "upper": 1, "max_ops": 6, "fit_points": 128, "validation_points": 50000},
    "strategy": {"nsga2": {"parents": 16, "children": 16}},
    "budget": {"max_evaluations": )" +
         std::to_string(evaluations) + R"(},
    "seed": 3,
    "window": 6
  })";
}

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.Sub("secret")) << "correct horse battery staple\n";
    std::ofstream(dir_.Sub("wrong")) << "not the secret\n";
  }

  // Starts `binary` with `args`, in `working_dir` when one is given.
  std::unique_ptr<Subprocess> Start(const char* binary, std::vector<std::string> args,
                                    const std::string& working_dir = "") {
    args.insert(args.begin(), binary);
    const std::string tag = std::to_string(runs_++);
    return std::make_unique<Subprocess>(args, dir_.Sub("out" + tag), dir_.Sub("err" + tag),
                                        working_dir);
  }

  // Starts `evolv run` with no local workers and a cluster port; returns the port.
  std::unique_ptr<Subprocess> StartServer(const std::string& spec, const std::string& data,
                                          int port, int* bound,
                                          const std::vector<std::string>& extra = {},
                                          const std::string& working_dir = "") {
    const std::string port_file = dir_.Sub("port" + std::to_string(runs_));
    std::vector<std::string> args = {"run",
                                     spec,
                                     "--data-dir",
                                     data,
                                     "--workers",
                                     "0",
                                     "--cluster-port",
                                     std::to_string(port),
                                     "--cluster-secret-file",
                                     dir_.Sub("secret"),
                                     "--cluster-port-file",
                                     port_file,
                                     "--checkpoint-results",
                                     "20",
                                     "--progress-every",
                                     "0.05"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto server = Start(EVOLV_BINARY, args, working_dir);
    for (int i = 0; i < 500; ++i) {
      std::ifstream in(port_file);
      if (in >> *bound && *bound > 0) return server;
      std::this_thread::sleep_for(10ms);
    }
    ADD_FAILURE() << "no cluster port: " << server->Stderr();
    return server;
  }

  std::unique_ptr<Subprocess> StartWorker(int port, const std::string& secret = "secret",
                                          const std::string& working_dir = "",
                                          const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"--connect", "127.0.0.1:" + std::to_string(port),
                                     "--secret-file", dir_.Sub(secret)};
    args.insert(args.end(), extra.begin(), extra.end());
    return Start(EVOLV_WORKER_BINARY, args, working_dir);
  }

  struct Row {
    std::string function;  // candidate and objectives
    std::string worker;
    bool ok;
  };
  std::vector<Row> History(const std::string& data_dir) {
    auto store = Store::Open(data_dir);
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return {};
    auto jobs = (*store)->ListJobs();
    auto history = (*store)->ReadHistory(jobs->front().id());
    std::vector<Row> rows;
    for (const auto& e : *history) {
      std::string f = e.candidate().SerializeAsString();
      for (double o : e.evaluation().objectives()) f += "|" + std::to_string(o);
      rows.push_back({f, e.evaluation().worker(), e.evaluation().status() != v1::FAILED});
    }
    return rows;
  }
  static std::vector<std::string> Functions(const std::vector<Row>& rows) {
    std::vector<std::string> out;
    for (const auto& r : rows) out.push_back(r.function);
    return out;
  }

  // The same job with local workers, for comparison.
  std::vector<Row> Reference(const std::string& spec) {
    auto run = Start(EVOLV_BINARY, {"run", spec, "--data-dir", dir_.Sub("reference")});
    EXPECT_EQ(run->Wait(120s), 0) << run->Stderr();
    return History(dir_.Sub("reference"));
  }

  TempDir dir_;
  int runs_ = 0;
};

TEST_F(ClusterTest, TwoRemoteWorkersCompleteAJobAndEachEvaluationNamesItsWorker) {
  const std::string spec = dir_.Sub("spec.json");
  std::ofstream(spec) << Spec(400);
  int port = 0;
  auto server = StartServer(spec, dir_.Sub("d"), 0, &port);
  auto w1 = StartWorker(port);
  auto w2 = StartWorker(port);
  ASSERT_EQ(server->Wait(120s), 0) << server->Stderr();
  const auto rows = History(dir_.Sub("d"));
  ASSERT_EQ(rows.size(), 400u);
  std::set<std::string> workers;
  for (const auto& r : rows) {
    if (!r.worker.empty()) workers.insert(r.worker);
  }
  // Cache hits carry the worker of the evaluation they reuse; every evaluation names a remote one.
  EXPECT_EQ(workers.size(), 2u);
  for (const auto& w : workers) EXPECT_NE(w.find(':'), std::string::npos) << w;  // host:pid/slot
  EXPECT_EQ(Functions(rows), Functions(Reference(spec)));
}

TEST_F(ClusterTest, AStudysTrialsGoOnlyToTheWorkerThatAllowsCommands) {
  const std::string script = dir_.Sub("objective.sh");
  std::ofstream(script)
      << R"sh(awk -v x="$1" 'BEGIN { printf "{\"loss\": %.17g}\n", (x - 2) ^ 2 }')sh"
      << "\n";
  const std::string spec = dir_.Sub("study.json");
  std::ofstream(spec) << R"({"study": {
      "parameters": [{"name": "x", "integer": {"low": -50, "high": 50}}],
      "objectives": [{"name": "loss"}],
      "command": {"argv": ["sh", ")"
                      << script << R"(", "{x}"]}},
    "strategy": {"regularized_evolution": {"population_size": 6, "tournament_size": 2}},
    "budget": {"max_evaluations": 30}, "seed": 3, "window": 4})";
  int port = 0;
  auto server = StartServer(spec, dir_.Sub("d"), 0, &port);
  auto plain = StartWorker(port);  // joins first, and is never sent a trial
  std::this_thread::sleep_for(200ms);
  auto allowing = StartWorker(port, "secret", "", {"--allow-commands"});
  ASSERT_EQ(server->Wait(120s), 0) << server->Stderr();
  const auto rows = History(dir_.Sub("d"));
  ASSERT_EQ(rows.size(), 30u);
  std::set<std::string> workers;
  for (const auto& r : rows) {
    EXPECT_TRUE(r.ok) << r.function;
    if (!r.worker.empty()) workers.insert(r.worker);
  }
  ASSERT_EQ(workers.size(), 1u);
  EXPECT_NE(workers.begin()->find(std::to_string(allowing->pid())), std::string::npos)
      << *workers.begin();
}

TEST_F(ClusterTest, SigkillOfOneWorkerLosesNothing) {
  const std::string spec = dir_.Sub("spec.json");
  std::ofstream(spec) << Spec(3000);
  int port = 0;
  auto server = StartServer(spec, dir_.Sub("d"), 0, &port);
  auto w1 = StartWorker(port);
  auto w2 = StartWorker(port);
  ASSERT_TRUE(server->WaitForStderr("/3000 evals", 60s));
  // Kill one worker once it has joined (a loaded machine may start it after the other has
  // results flowing) and results are flowing.
  const std::regex w1_joined(":" + std::to_string(w1->pid()) + R"(/\d+ joined)");
  ASSERT_TRUE(server->WaitForStderr(w1_joined, 60s)) << server->Stderr();
  ASSERT_TRUE(server->WaitForStderr(std::regex(R"(([1-9]\d+)/3000 evals)"), 30s));
  w1->Signal(SIGKILL);
  ASSERT_EQ(server->Wait(120s), 0) << server->Stderr();
  EXPECT_NE(server->Stderr().find("re-queued"), std::string::npos) << server->Stderr();
  const auto rows = History(dir_.Sub("d"));
  ASSERT_EQ(rows.size(), 3000u);
  for (const auto& r : rows) EXPECT_TRUE(r.ok);
  EXPECT_EQ(Functions(rows), Functions(Reference(spec)));
}

TEST_F(ClusterTest, WorkerWithTheWrongSecretIsRefused) {
  const std::string spec = dir_.Sub("spec.json");
  std::ofstream(spec) << Spec(100);
  int port = 0;
  auto server = StartServer(spec, dir_.Sub("d"), 0, &port);
  auto intruder = StartWorker(port, "wrong");
  // Generous: on a loaded machine a join can time out (10 s) and be retried before the refusal.
  EXPECT_EQ(intruder->Wait(90s), 3) << intruder->Stderr();
  EXPECT_NE(intruder->Stderr().find("refused this worker: wrong cluster secret"), std::string::npos)
      << intruder->Stderr();
  EXPECT_TRUE(server->WaitForStderr("refused worker", 10s)) << server->Stderr();
  // The job still runs with a legitimate worker.
  auto worker = StartWorker(port);
  EXPECT_EQ(server->Wait(120s), 0) << server->Stderr();
}

TEST_F(ClusterTest, WorkersReconnectWhenTheServerRestarts) {
  const std::string spec = dir_.Sub("spec.json");
  std::ofstream(spec) << Spec(4000);
  int port = 0;
  auto first = StartServer(spec, dir_.Sub("d"), 0, &port);
  auto w1 = StartWorker(port);
  auto w2 = StartWorker(port);
  ASSERT_TRUE(first->WaitForStderr(std::regex(R"(([1-9]\d\d+)/4000 evals)"), 60s));
  first->Signal(SIGKILL);
  ASSERT_EQ(first->Wait(10s), 128 + SIGKILL);
  int again = 0;
  auto second = StartServer(spec, dir_.Sub("d"), port, &again);
  EXPECT_EQ(again, port);
  ASSERT_EQ(second->Wait(120s), 0) << second->Stderr();
  EXPECT_NE(second->Stderr().find("resuming job"), std::string::npos);
  EXPECT_TRUE(w1->WaitForStderr("reconnecting", 1s)) << w1->Stderr();
  const auto rows = History(dir_.Sub("d"));
  ASSERT_EQ(rows.size(), 4000u);
  EXPECT_EQ(Functions(rows), Functions(Reference(spec)));
}

TEST_F(ClusterTest, TlsLinkCarriesTheJobAndRefusesPlainWorkers) {
  // A throwaway CA and certificates for both sides, made with the openssl tool.
  const std::string d = dir_.path();
  const std::string make =
      "cd " + d +
      " && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=ca "
      "-keyout ca.key -out ca.pem && for n in server worker; do openssl req -newkey rsa:2048 "
      "-nodes -subj /CN=$n -keyout $n.key -out $n.csr && openssl x509 -req -in $n.csr -CA ca.pem "
      "-CAkey ca.key -CAcreateserial -days 2 -out $n.pem; done > openssl.log 2>&1";
  ASSERT_EQ(std::system(make.c_str()), 0) << Subprocess::Slurp(d + "/openssl.log");
  const std::string spec = dir_.Sub("spec.json");
  std::ofstream(spec) << Spec(200);
  int port = 0;
  auto server = StartServer(
      spec, dir_.Sub("d"), 0, &port,
      {"--tls-cert", d + "/server.pem", "--tls-key", d + "/server.key", "--tls-ca", d + "/ca.pem"});
  ASSERT_GT(port, 0) << server->Stderr();
  // A worker without TLS cannot join; it keeps retrying and never evaluates.
  auto plain = StartWorker(port);
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(plain->Stderr().find("joined evolvd"), std::string::npos) << plain->Stderr();
  auto secure =
      Start(EVOLV_WORKER_BINARY, {"--connect", "127.0.0.1:" + std::to_string(port), "--secret-file",
                                  dir_.Sub("secret"), "--tls-cert", d + "/worker.pem", "--tls-key",
                                  d + "/worker.key", "--tls-ca", d + "/ca.pem"});
  ASSERT_EQ(server->Wait(120s), 0) << server->Stderr();
  EXPECT_NE(secure->Stderr().find("joined evolvd"), std::string::npos) << secure->Stderr();
  EXPECT_EQ(History(dir_.Sub("d")).size(), 200u);
}

// The coordinator and a worker whose copy of a file the spec names differs: each runs in a
// directory of its own, and the spec names the file relative to it.
class MismatchedWorkerTest : public ClusterTest {
 protected:
  void SetUp() override {
    ClusterTest::SetUp();
    std::filesystem::create_directories(here_);
    std::filesystem::create_directories(there_);
  }

  // Runs `spec` on `evolv run` in here_, with one remote worker (one slot) in there_, and
  // expects the job to end with `evaluations` results, each of them that worker's refusal: FAILED,
  // naming the two problem fingerprints. Nothing may be stored in the cache, and the worker must
  // have warned once. The refused candidates (serialized) go to `refused` unless it is null.
  void ExpectTheWorkerRefusesEveryEvaluation(const std::string& spec, size_t evaluations,
                                             std::set<std::string>* refused = nullptr) {
    int port = 0;
    auto server = StartServer(spec, dir_.Sub("d"), 0, &port, {}, here_);
    auto worker = StartWorker(port, "secret", there_);
    ASSERT_EQ(server->Wait(120s), 0) << server->Stderr();
    auto store = Store::Open(dir_.Sub("d"));
    ASSERT_TRUE(store.ok()) << store.status();
    auto jobs = (*store)->ListJobs();
    ASSERT_TRUE(jobs.ok() && jobs->size() == 1u);
    auto history = (*store)->ReadHistory(jobs->front().id());
    ASSERT_TRUE(history.ok());
    ASSERT_EQ(history->size(), evaluations);
    for (const auto& entry : *history) {
      if (refused) refused->insert(entry.candidate().SerializeAsString());
      EXPECT_EQ(entry.evaluation().status(), v1::FAILED);
      EXPECT_NE(entry.evaluation().worker().find(':'), std::string::npos);  // the remote worker
      EXPECT_THAT(entry.evaluation().error(),
                  ::testing::MatchesRegex("the worker's problem differs from the coordinator's: "
                                          "the spec's files differ on this worker \\(problem "
                                          "fingerprint [0-9a-f]{32} here vs [0-9a-f]{32} "
                                          "there\\)"));
    }
    EXPECT_EQ((*store)->CountEvaluations().value_or(1), 0u);  // nothing stored under its keys
    const std::string log = worker->Stderr();
    const size_t warning = log.find("refusing its evaluations");
    EXPECT_NE(warning, std::string::npos) << log;
    EXPECT_EQ(log.find("refusing its evaluations", warning + 1), std::string::npos) << log;
  }

  const std::string here_ = dir_.Sub("coordinator"), there_ = dir_.Sub("worker");
};

// A tiny learned-denoiser job named `name` whose model file, "tiny.model", is relative to the
// working directory of each process that builds the problem; the model is trained with `seed`.
std::string LearnedDiffusionSpec(const std::string& name, uint64_t seed) {
  return R"({
    "name": ")" +
         name + R"(",
    "diffusion": {
      "mixture": {"dimension": 4, "components": 3, "seed": 2},
      "steps": 4, "samples": 100,
      "denoiser": {"model": "tiny.model", "blocks": 3, "width": 16, "training_steps": 200,
                   "batch": 64, "seed": )" +
         std::to_string(seed) + R"(}
    },
    "strategy": {"top_k_evolution": {"population": 12, "top_k": 4, "mutants": 6,
      "crossovers": 3, "initial_random": 5, "generations": 2}},
    "budget": {"max_evaluations": 20},
    "seed": 3,
    "window": 4
  })";
}

TEST_F(MismatchedWorkerTest, WorkerWhoseSpecFileDiffersFailsItsEvaluationsAndCachesNothing) {
  // Each directory has its own "tiny.model": same shape and mixture (so both accept it), other
  // weights.
  const std::string spec = dir_.Sub("spec.json"), other_seed = dir_.Sub("other-seed.json");
  std::ofstream(spec) << LearnedDiffusionSpec("mismatch", 5);
  std::ofstream(other_seed) << LearnedDiffusionSpec("mismatch", 6);
  ASSERT_EQ(Start(EVOLV_BINARY, {"train-denoiser", spec}, here_)->Wait(120s), 0);
  ASSERT_EQ(Start(EVOLV_BINARY, {"train-denoiser", other_seed}, there_)->Wait(120s), 0);
  std::set<std::string> refused;
  ASSERT_NO_FATAL_FAILURE(ExpectTheWorkerRefusesEveryEvaluation(spec, 20, &refused));

  // The same candidates in a new job with a local worker that has the coordinator's file: every
  // result is its own evaluation, none served from what the mismatched worker returned.
  const std::string again = dir_.Sub("again.json");
  std::ofstream(again) << LearnedDiffusionSpec("mismatch, again", 5);
  auto local =
      Start(EVOLV_BINARY,
            {"run", again, "--data-dir", dir_.Sub("d"), "--workers", "1", "--no-progress"}, here_);
  ASSERT_EQ(local->Wait(120s), 0) << local->Stderr();
  auto store = Store::Open(dir_.Sub("d"));
  ASSERT_TRUE(store.ok()) << store.status();
  auto jobs = (*store)->ListJobs();
  ASSERT_TRUE(jobs.ok() && jobs->size() == 2u);
  for (const auto& job : *jobs) {
    if (job.spec().name() != "mismatch, again") continue;
    auto history = (*store)->ReadHistory(job.id());
    ASSERT_TRUE(history.ok());
    ASSERT_EQ(history->size(), 20u);
    size_t repeated = 0;  // candidates the mismatched worker was asked for
    for (const auto& entry : *history) {
      repeated += refused.count(entry.candidate().SerializeAsString());
      EXPECT_EQ(entry.evaluation().status(), v1::OK) << entry.evaluation().error();
      EXPECT_EQ(entry.evaluation().worker(), "local-0");
    }
    EXPECT_GE(repeated, 4u);  // at least the first window
  }
}

// A 3x3 tridiagonal system, diagonally dominant for `diagonal` > 2, as Matrix Market text.
std::string TridiagonalMatrix(int diagonal) {
  const std::string d = std::to_string(diagonal);
  return "%%MatrixMarket matrix coordinate real general\n3 3 7\n1 1 " + d +
         "\n1 2 -1\n2 1 -1\n2 2 " + d + "\n2 3 -1\n3 2 -1\n3 3 " + d + "\n";
}

TEST_F(MismatchedWorkerTest,
       WorkerWhoseMatrixMarketFilesDifferFailsItsEvaluationsAndCachesNothing) {
  // Both directories hold "systems/A_0001.mtx" and "systems/A_0002.mtx"; the first system is the
  // same in both (so its solves have one cache key everywhere), the second is not. Only the
  // problem fingerprint, not the canonical spec or the first instance's keys, tells them apart.
  for (const auto& [root, second] : {std::pair{here_, 5}, std::pair{there_, 6}}) {
    std::filesystem::create_directories(root + "/systems");
    std::ofstream(root + "/systems/A_0001.mtx") << TridiagonalMatrix(4);
    std::ofstream(root + "/systems/A_0002.mtx") << TridiagonalMatrix(second);
  }
  const std::string spec = dir_.Sub("spec.json");
  // Per instance: the comparators at omega 1 and 1.5, then one bandit pick: 6 evaluations.
  std::ofstream(spec) << R"({
    "name": "matrix market mismatch",
    "solver": {
      "matrix_market": {"dir": "systems", "seed": 1},
      "omegas": {"lo": 1.0, "hi": 1.5, "count": 2},
      "instance_optimal": "INSTANCE_OPTIMAL_NONE"
    },
    "strategy": {"bandit": {"policies": ["tsallis_inf"], "trials": 1}},
    "budget": {"max_evaluations": 6},
    "seed": 3,
    "window": 4
  })";
  ExpectTheWorkerRefusesEveryEvaluation(spec, 6);
}

}  // namespace
}  // namespace evolv
