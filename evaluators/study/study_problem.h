// The study problem: the user's own objective over a space of named parameters (float, integer,
// categorical), evaluated by running the spec's command on a worker (command_runner.h) and
// reading its last stdout line as a JSON object of the objectives.
//
// Functional key: Probe is each parameter's canonical value as the command receives it, in the
// spec's order; CanonicalSpec is the parameters' names, the command (argv template, working
// directory, environment) and the objectives (names, directions). Bounds, scales, digits and the
// time limit stay out: they decide which values are proposed, or whether a trial fails, never
// what a successful trial returns. So a configuration evaluated once is served from the store to
// any later job of a study with the same command, whatever its bounds. Cache contract: the
// default (objectives equal to 1e-9 relative), which holds for deterministic commands; a noisy
// command wants the AGGREGATE cache mode.
//
// Only workers that allow commands evaluate studies: the registry marks the domain as running
// user commands, evolvd and evolv-worker offer it only with --allow-commands
// (docs/security.md).
//
// Thread-safety: all methods are const and safe to call concurrently.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "evaluators/study/study_space.h"
#include "evolv/v1/study.pb.h"
#include "search/parameter_space.h"
#include "search/problem.h"

namespace evolv {

// Validates the spec and builds the problem. InvalidArgument naming the field
// ("study.command.argv[2]: unknown placeholder {lr}: not a parameter's name").
absl::StatusOr<std::unique_ptr<Problem>> CreateStudyProblem(const v1::StudySpec& spec);

// A small valid spec (two parameters, one objective, a command the registry never runs).
v1::StudySpec StudyExampleSpec();

class StudyProblem : public Problem, public ParameterSpace {
 public:
  explicit StudyProblem(StudySpace space) : space_(std::move(space)) {}

  std::string Domain() const override { return "study"; }
  std::string CanonicalSpec() const override;
  std::string EvaluatorVersion() const override { return "study/1"; }
  // The objectives' names as the spec gives them.
  std::vector<std::string> ObjectiveNames() const override;
  // Each objective as the user reads it: a maximized one is stored negated (NEGATED).
  std::vector<v1::ObjectiveDisplay> ObjectiveDisplays() const override;

  v1::Candidate Random(Rng& rng) const override;
  v1::Candidate Mutate(const v1::Candidate& parent, Rng& rng) const override;
  std::optional<v1::Candidate> Crossover(const v1::Candidate& a, const v1::Candidate& b,
                                         Rng& rng) const override;
  ProbeBytes Probe(const v1::Candidate& candidate) const override;
  // INFEASIBLE for a trial that is not one canonical in-range value per parameter.
  std::optional<v1::Evaluation> CheckFeasible(const v1::Candidate& candidate) const override;
  // Runs the command. OK with objectives (negated where maximized) and metrics: each objective's
  // value as the command gave it, under its name, and the other finite numbers of the JSON line
  // (at most 64). FAILED when the command cannot start, exits non-zero, is killed or runs past
  // the time limit, or when its last line is not a JSON object with a finite number for every
  // objective; the error says which, with the tail of stderr.
  v1::Evaluation Evaluate(const v1::Candidate& candidate,
                          const EvalContext& context) const override;
  // A study with `clients`: its trials go to the clients (SuggestTrials), which report the
  // objectives as the command's JSON line would (CompleteTrial).
  bool EvaluatedByClients() const override { return space_.spec().has_clients(); }
  // OK with objectives and metrics as Evaluate reads them from a JSON line; InvalidArgument
  // "values: no objective 'loss'" or "values: objective 'loss' is not a finite number".
  absl::StatusOr<v1::Evaluation> ClientEvaluation(
      const v1::Candidate& candidate,
      const google::protobuf::Map<std::string, double>& values) const override;
  // kText: "name=value, ..."; kJson: {"name": value, ...}; kC: the command line.
  std::string Render(const v1::Candidate& candidate, RenderFormat format) const override;
  // Trials run, failed and infeasible; the 10 best configurations (by the objectives in order)
  // with their parameters; for several objectives, the Pareto front.
  std::string Report(const std::vector<v1::HistoryEntry>& history) const override;
  // "best-so-far": the best value of each objective by trial; "parameter-K": the first
  // objective against parameter K (the first 7 parameters), one point per trial.
  std::vector<v1::ReportChart> Charts(const std::vector<v1::HistoryEntry>& history) const override;

  // The parameters as a box for the model-based strategy (search/gp_search.h).
  const ParameterSpace* AsParameterSpace() const override { return this; }
  std::vector<Dimension> Dimensions() const override;
  v1::Candidate FromUnit(const std::vector<double>& point) const override;
  std::vector<double> ToUnit(const v1::Candidate& candidate) const override;

  const StudySpace& space() const { return space_; }

 private:
  // The trial's values, or empty when the candidate holds no StudyTrial.
  std::vector<double> Values(const v1::Candidate& candidate) const;
  // CheckFeasible on the trial's values.
  std::optional<v1::Evaluation> Infeasibility(const std::vector<double>& values) const;
  v1::Candidate Pack(const std::vector<double>& values) const;
  // The evaluation of reported numbers by name: every objective's, finite (negated where
  // maximized), and at most 64 other finite ones as metrics; else InvalidArgument saying which
  // objective is missing or not finite.
  absl::StatusOr<v1::Evaluation> FromValues(
      const google::protobuf::Map<std::string, double>& values) const;

  StudySpace space_;
};

// The most extra numbers of a command's JSON line kept as metrics.
inline constexpr int kStudyMaxMetrics = 64;

}  // namespace evolv
