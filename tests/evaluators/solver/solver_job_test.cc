// The solver domain as a job: JobEngine with a real Store, the registry's solver problem and the
// bandit strategy, driven without actors (as tests/actors/job_engine_test.cc).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "actors/job_engine.h"
#include "evaluators/registry.h"
#include "evaluators/solver/matrix_market.h"
#include "evaluators/solver/sequences.h"
#include "evaluators/solver/solver_problem.h"
#include "evolv/v1/solver.pb.h"
#include "search/problem.h"
#include "tests/support/engine_driver.h"
#include "tests/support/temp_dir.h"

namespace evolv {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

using testing::HistoryFingerprint;

using testing::DriveToEnd;

std::string Report(Store& store, const JobEngine& engine) {
  auto history = store.ReadHistory(engine.record().id());
  EXPECT_TRUE(history.ok());
  return engine.problem().Report(*history);
}

// The solver choice a history entry's candidate holds.
v1::SolverChoice ChoiceOf(const v1::Candidate& candidate) {
  v1::SolverChoice choice;
  EXPECT_TRUE(UnpackCandidate(candidate, &choice));
  return choice;
}

v1::JobRecord Job(const std::string& id, v1::SolverSpec solver, uint32_t trials, uint32_t window) {
  v1::JobRecord record;
  record.set_id(id);
  auto* spec = record.mutable_spec();
  spec->mutable_problem()->PackFrom(solver);
  spec->mutable_strategy()->mutable_bandit()->set_trials(trials);
  spec->mutable_budget()->set_max_evaluations(1000000);
  spec->set_window(window);
  spec->set_seed(5);
  record.set_state(v1::RUNNING);
  return record;
}

TEST(SolverJobTest, MatrixMarketDirectoryEndToEnd) {
  TempDir files;
  const std::vector<double> shifts = {0.3, -0.1, 0.0, 0.8, 0.2, 0.05};
  std::ofstream context(files.Sub("context.txt"));
  for (size_t i = 0; i < shifts.size(); ++i) {
    const std::string id = "000" + std::to_string(i);
    ASSERT_TRUE(
        WriteMatrixMarket(files.Sub("A_" + id + ".mtx"), ShiftedLaplacian(5, shifts[i])).ok());
    context << shifts[i] << "\n";
  }
  context.close();
  // One instance brings its own b; the others draw b from the seed.
  const Eigen::VectorXd b2 = Eigen::VectorXd::LinSpaced(25, -1.0, 1.0);
  ASSERT_TRUE(WriteMatrixMarket(files.Sub("b_0002.mtx"), b2).ok());

  v1::SolverSpec solver;
  solver.mutable_matrix_market()->set_dir(files.path());
  solver.mutable_matrix_market()->set_seed(9);
  solver.mutable_omegas()->set_count(5);  // 1.0, 1.2375, ..., 1.95
  solver.set_golden_evaluations(8);       // no closed form for a file: golden section
  TempDir data;
  auto store = Store::Open(data.path());
  ASSERT_TRUE(store.ok());
  auto engine = JobEngine::Create(Job("mm", solver, 2, 8), store->get(), BuiltinProblems());
  ASSERT_TRUE(engine.ok()) << engine.status();
  DriveToEnd(**engine, 3);

  auto history = (*store)->ReadHistory("mm");
  ASSERT_TRUE(history.ok());
  // Per instance: 5 grid omegas + instance-optimal + 2 trials x 3 policies.
  ASSERT_EQ(history->size(), 6u * 12u);
  // Only the comparators were solved; every pick was answered from the cache.
  EXPECT_EQ((*engine)->Progress().cache().misses(), 6u * 6u);
  EXPECT_EQ((*engine)->Progress().cache().hits(), 6u * 6u);
  std::map<std::pair<uint64_t, double>, double> fixed;
  for (const auto& entry : *history) {
    const v1::SolverChoice c = ChoiceOf(entry.candidate());
    ASSERT_EQ(entry.evaluation().status(), v1::OK) << entry.evaluation().error();
    if (c.policy().empty() && c.kind() == v1::SolverChoice::FIXED) {
      fixed[{c.instance(), c.omega()}] = entry.evaluation().objectives(0);
    }
  }
  for (const auto& entry : *history) {
    const v1::SolverChoice c = ChoiceOf(entry.candidate());
    if (c.policy().empty()) continue;
    EXPECT_TRUE(entry.cache_hit());
    EXPECT_EQ(entry.evaluation().objectives(0), (fixed[{c.instance(), c.omega()}]));
    EXPECT_EQ(c.context(), shifts[c.instance()]);
  }
  // The solves are those of the files: instance 2 with its own b.
  Eigen::VectorXd x;
  auto direct = SolveSor(ShiftedLaplacian(5, shifts[2]), b2, 1.2375, x);
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ((fixed[{2, 1.2375}]), direct->iterations);

  const std::string report = Report(**store, **engine);
  EXPECT_THAT(report, HasSubstr("instances: 6 of 6"));
  EXPECT_THAT(report, HasSubstr("tsallis_inf_cb"));
  EXPECT_THAT(report, HasSubstr("instance-optimal (golden)"));
  EXPECT_THAT(report, HasSubstr("cumulative iterations vs instance"));
}

TEST(SolverJobTest, BadInputFailsBeforeAnythingIsStored) {
  TempDir files;
  std::ofstream(files.Sub("A_0001.mtx"))
      << "%%MatrixMarket matrix coordinate real general\n2 2 2\n1 1 4\n2 x 5\n";
  v1::SolverSpec solver;
  solver.mutable_matrix_market()->set_dir(files.path());
  TempDir data;
  auto store = Store::Open(data.path());
  auto engine = JobEngine::Create(Job("bad", solver, 1, 8), store->get(), BuiltinProblems());
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(engine.status().message()),
              StartsWith("solver.matrix_market.dir: " + files.Sub("A_0001.mtx") + ":4: "));
  EXPECT_EQ(*(*store)->CountEvaluations(), 0u);
  EXPECT_FALSE((*store)->GetJob("bad").ok());

  v1::SolverSpec laplacian;
  laplacian.mutable_shifted_laplacian()->set_instances(3);
  v1::JobRecord unknown = Job("bad", laplacian, 1, 8);
  unknown.mutable_spec()->mutable_strategy()->mutable_bandit()->add_policies("ucb1");
  auto rejected = JobEngine::Create(unknown, store->get(), BuiltinProblems());
  ASSERT_FALSE(rejected.ok());
  EXPECT_THAT(std::string(rejected.status().message()),
              StartsWith("strategy.bandit.policies[0]: unknown"));
}

v1::SolverSpec SmallLaplacian() {
  v1::SolverSpec solver;
  solver.mutable_shifted_laplacian()->set_instances(60);
  solver.mutable_shifted_laplacian()->set_seed(2);
  solver.mutable_omegas()->set_count(8);
  return solver;
}

TEST(SolverJobTest, ResumeAfterACheckpointGivesTheSameTotals) {
  TempDir whole_dir, split_dir;
  auto whole = Store::Open(whole_dir.path());
  {
    auto engine =
        JobEngine::Create(Job("j", SmallLaplacian(), 3, 16), whole->get(), BuiltinProblems());
    ASSERT_TRUE(engine.ok()) << engine.status();
    DriveToEnd(**engine, 0);
  }
  {
    auto split = Store::Open(split_dir.path());
    auto engine =
        JobEngine::Create(Job("j", SmallLaplacian(), 3, 16), split->get(), BuiltinProblems());
    std::vector<EvalTask> pending = (*engine)->Fill();
    for (int i = 0; i < 400 && !pending.empty(); ++i) {
      EvalTask task = pending.front();
      pending.erase(pending.begin());
      auto more = (*engine)->OnResult(
          task.index, (*engine)->problem().Evaluate(task.candidate, {task.seed, task.repeat}));
      pending.insert(pending.end(), more.begin(), more.end());
      if (i == 300) {
        ASSERT_TRUE((*engine)->Checkpoint(v1::RUNNING).ok());
      }
    }
    // Dropped here with tasks in flight: a crash after the checkpoint.
  }
  auto split = Store::Open(split_dir.path());
  auto resumed =
      JobEngine::Create(Job("j", SmallLaplacian(), 3, 16), split->get(), BuiltinProblems());
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_GT((*resumed)->told(), 200u);
  DriveToEnd(**resumed, 77);
  const auto rows = HistoryFingerprint(**whole, "j");
  EXPECT_EQ(rows.size(), 60u * (8 + 1 + 9));
  EXPECT_EQ(rows, HistoryFingerprint(**split, "j"));
  auto engine =
      JobEngine::Create(Job("j", SmallLaplacian(), 3, 16), whole->get(), BuiltinProblems());
  const std::string report = Report(**whole, **engine);
  EXPECT_THAT(report, HasSubstr("instances: 60 of 60"));
  EXPECT_EQ(report, Report(**split, **resumed));
}

TEST(SolverJobTest, BanditsLearnWithinASmallJob) {
  // 300 high-variance instances: every policy already beats omega = 1 by a wide margin.
  v1::SolverSpec solver;
  solver.mutable_shifted_laplacian()->set_instances(300);
  solver.mutable_shifted_laplacian()->set_seed(1);
  solver.set_instance_optimal(v1::SolverSpec::INSTANCE_OPTIMAL_NONE);
  TempDir data;
  auto store = Store::Open(data.path());
  auto engine = JobEngine::Create(Job("learn", solver, 2, 32), store->get(), BuiltinProblems());
  ASSERT_TRUE(engine.ok()) << engine.status();
  DriveToEnd(**engine, 0);
  auto history = (*store)->ReadHistory("learn");
  std::map<std::string, double> total;
  for (const auto& entry : *history) {
    const v1::SolverChoice c = ChoiceOf(entry.candidate());
    const std::string who = c.policy().empty() ? (c.omega() == 1.0 ? "one" : "") : c.policy();
    if (!who.empty()) total[who] += entry.evaluation().objectives(0);
  }
  for (const char* policy : {"tsallis_inf", "tsallis_inf_cb", "chebcb"}) {
    EXPECT_LT(total[policy] / 2, total["one"] / 2) << policy;
  }
}

// The totals table of a report: label -> iterations, from lines "  LABEL<padding> TOTAL ...".
std::map<std::string, double> ReportTotals(const std::string& report) {
  std::map<std::string, double> totals;
  std::istringstream in(report.substr(report.find("total iterations")));
  std::string line;
  std::getline(in, line);
  std::getline(in, line);  // the column heads
  while (std::getline(in, line) && line.size() > 37) {
    std::string label = line.substr(2, 34);
    label.erase(label.find_last_not_of(' ') + 1);
    totals[label] = std::stod(line.substr(37));
  }
  return totals;
}

TEST(SolverJobTest, ChartsAreTheReportsCumulativeTotalsAndTheOmegasChosen) {
  v1::SolverSpec solver;
  solver.mutable_shifted_laplacian()->set_instances(30);
  solver.mutable_shifted_laplacian()->set_seed(2);
  TempDir data;
  auto store = Store::Open(data.path());
  auto engine = JobEngine::Create(Job("charts", solver, 2, 16), store->get(), BuiltinProblems());
  ASSERT_TRUE(engine.ok()) << engine.status();
  DriveToEnd(**engine, 0);
  auto history = (*store)->ReadHistory("charts");
  ASSERT_TRUE(history.ok());
  const Problem& problem = (*engine)->problem();
  const std::map<std::string, double> totals = ReportTotals(problem.Report(*history));
  const std::vector<v1::ReportChart> charts = problem.Charts(*history);
  ASSERT_EQ(charts.size(), 2u);

  const v1::ReportChart& cumulative = charts[0];
  EXPECT_EQ(cumulative.name(), "cumulative-iterations");
  // Three policies, then best fixed, instance-optimal, per-instance best and omega = 1.
  ASSERT_EQ(cumulative.series_size(), 7);
  for (const v1::ChartSeries& series : cumulative.series()) {
    ASSERT_EQ(series.x_size(), 30) << series.label();
    ASSERT_EQ(series.y_size(), 30) << series.label();
    for (int t = 0; t < 30; ++t) {
      EXPECT_EQ(series.x(t), t + 1);
      EXPECT_TRUE(std::isfinite(series.y(t)));
      EXPECT_GT(series.y(t), 0) << series.label();
      if (t > 0) {
        EXPECT_GE(series.y(t), series.y(t - 1)) << series.label() << " at " << t;
      }
    }
    // Ends at the total the report prints for it (the instance-optimal line says how).
    auto total = totals.lower_bound(series.label());
    ASSERT_NE(total, totals.end()) << series.label();
    ASSERT_THAT(total->first, StartsWith(series.label()));
    EXPECT_NEAR(series.y(29), total->second, 0.051) << series.label();
  }

  const v1::ReportChart& omegas = charts[1];
  EXPECT_EQ(omegas.name(), "omega-chosen");
  ASSERT_EQ(omegas.series_size(), 3);
  const auto* solver_problem = dynamic_cast<const SolverProblem*>(&problem);
  ASSERT_NE(solver_problem, nullptr);
  for (const v1::ChartSeries& series : omegas.series()) {
    EXPECT_TRUE(series.step());
    ASSERT_EQ(series.y_size(), 30) << series.label();
    for (double omega : series.y()) {
      EXPECT_GE(omega, solver_problem->omegas().front());
      EXPECT_LE(omega, solver_problem->omegas().back());
    }
  }
}

}  // namespace
}  // namespace evolv
