// Fuzzes the checkpoint decoder: a stored CoordinatorCheckpoint row as the store parses it
// (storage/store.cc), upgraded as a schema-1 row would be (storage/schema_migration.h), then
// restored into each strategy (Strategy::Restore, as JobEngine resumes a job) and driven one
// step: Ask the next candidate, Tell it a result, key the pending candidates. Must never crash,
// leak or hit undefined behaviour whatever the bytes; a snapshot a strategy accepts must
// survive Snapshot -> Restore unchanged. A history key (storage/key_encoding.h) is parsed from
// the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "evaluators/numerics/numerics_problem.h"
#include "evaluators/solver/solver_problem.h"
#include "search/functional_hash.h"
#include "search/strategy.h"
#include "storage/key_encoding.h"
#include "storage/schema_migration.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_domains.h"

namespace {

using evolv::fuzz::Require;

using evolv::v1::JobSpec;

// One job per strategy: its spec and problem (built once; strategies are built per input).
struct Job {
  JobSpec spec;
  std::unique_ptr<evolv::Problem> problem;
};

std::vector<Job> MakeJobs() {
  const evolv::ProblemRegistry& registry = evolv::fuzz::FuzzProblems();
  std::vector<Job> jobs;
  auto add = [&](JobSpec spec) {
    auto problem = registry.Create(spec);
    if (!problem.ok()) {
      std::fprintf(stderr, "fuzz job: %s\n", problem.status().ToString().c_str());
      std::abort();
    }
    jobs.push_back(Job{std::move(spec), std::move(*problem)});
  };
  JobSpec numerics;
  numerics.mutable_problem()->PackFrom(evolv::NumericsExampleSpec());
  numerics.set_seed(1);
  JobSpec spec = numerics;
  spec.mutable_strategy()->mutable_regularized_evolution()->set_population_size(4);
  spec.mutable_strategy()->mutable_regularized_evolution()->set_tournament_size(2);
  add(spec);
  spec = numerics;
  spec.mutable_strategy()->mutable_nsga2()->set_parents(4);
  spec.mutable_strategy()->mutable_nsga2()->set_children(4);
  add(spec);
  spec = numerics;
  spec.mutable_strategy()->mutable_top_k_evolution();
  add(spec);
  JobSpec solver;
  solver.mutable_problem()->PackFrom(evolv::SolverExampleSpec());
  solver.set_seed(1);
  solver.mutable_strategy()->mutable_bandit()->add_policies("tsallis_inf");
  solver.mutable_strategy()->mutable_bandit()->add_policies("tsallis_inf_cb");
  solver.mutable_strategy()->mutable_bandit()->add_policies("chebcb");
  add(solver);
  return jobs;
}

const evolv::SchemaV1Fields& V1Fields() {
  static const evolv::SchemaV1Fields fields = [] {
    const evolv::ProblemRegistry& registry = evolv::fuzz::FuzzProblems();
    return evolv::SchemaV1Fields{registry.SchemaV1JobSpecFields(),
                                 registry.SchemaV1CandidateFields()};
  }();
  return fields;
}

void RestoreAndStep(const Job& job, const evolv::v1::CoordinatorCheckpoint& checkpoint) {
  auto strategy = evolv::CreateStrategy(job.spec, *job.problem);
  Require(strategy.ok(), "the fuzz job's strategy builds");
  if (!(*strategy)->Restore(checkpoint.strategy()).ok()) return;
  const evolv::v1::StrategySnapshot snapshot = (*strategy)->Snapshot();
  auto again = evolv::CreateStrategy(job.spec, *job.problem);
  Require(again.ok() && (*again)->Restore(snapshot).ok(), "a strategy's own snapshot restores");
  Require(evolv::fuzz::SameMessage((*again)->Snapshot(), snapshot),
          "Snapshot -> Restore -> Snapshot is the identity");
  for (const auto& pending : checkpoint.pending()) {
    (void)evolv::FunctionalKey(*job.problem, pending.candidate());
  }
  if ((*strategy)->Done()) return;
  const uint64_t index = checkpoint.told();
  (void)(*strategy)->ProgressNote(index);
  (void)(*strategy)->Units(index);
  const evolv::v1::Candidate candidate = (*strategy)->Ask(index);
  evolv::v1::Evaluation evaluation;
  evaluation.set_status(evolv::v1::OK);
  for (size_t i = 0; i < job.problem->ObjectiveNames().size(); ++i) {
    evaluation.add_objectives(static_cast<double>(i));
  }
  (*strategy)->Tell(index, candidate, evaluation);
  (void)(*strategy)->Snapshot();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  evolv::fuzz::QuietProtobufLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<Job> jobs = MakeJobs();
  std::string_view job_id;
  uint64_t index = 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (evolv::storage_keys::ParseHistoryKey(bytes, &job_id, &index)) {
    Require(evolv::storage_keys::HistoryKey(job_id, index) == bytes, "a history key round-trips");
  }
  (void)evolv::storage_keys::PrintableKey(bytes);

  evolv::v1::CoordinatorCheckpoint checkpoint;
  if (!checkpoint.ParseFromArray(data, static_cast<int>(size))) return 0;
  evolv::UpgradeFromSchemaV1(&checkpoint, V1Fields());
  for (const Job& job : jobs) RestoreAndStep(job, checkpoint);
  return 0;
}
