// A study's search space: validation of the spec's parameters, objectives and command, and the
// moves a search makes in the space (random assignments, mutations, crossovers), always on
// canonical values (study.proto: a real parameter's grid or significant digits).
//
// Thread-safety: immutable after Create; every method is const.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "evolv/v1/study.pb.h"
#include "search/rng.h"

namespace evolv {

// Limits of a study spec (docs/limits.md).
inline constexpr int kStudyMaxParameters = 64;
inline constexpr int kStudyMaxObjectives = 8;
inline constexpr int kStudyMaxChoices = 1000;
inline constexpr size_t kStudyMaxNameBytes = 64;
inline constexpr size_t kStudyMaxChoiceBytes = 256;
inline constexpr int kStudyMaxArgs = 256;
inline constexpr size_t kStudyMaxArgBytes = 4096;
inline constexpr int kStudyMaxEnv = 256;
// Below the dispatcher's limit on one evaluation (DispatcherOptions::task_timeout_seconds, 600 s),
// past which it would send the trial to another worker while the first still runs it.
inline constexpr double kStudyMaxTimeoutSeconds = 500;
inline constexpr size_t kStudyMaxClientObjectiveBytes = 256;
inline constexpr double kStudyDefaultTimeoutSeconds = 300;
inline constexpr uint32_t kStudyDefaultDigits = 6;
inline constexpr uint32_t kStudyMaxDigits = 15;
inline constexpr double kStudyMaxInt = 9007199254740992.0;  // 2^53

class StudySpace {
 public:
  // Checks the spec; InvalidArgument naming the field ("study.parameters[1].real.high: ...").
  static absl::StatusOr<StudySpace> Create(const v1::StudySpec& spec);

  const v1::StudySpec& spec() const { return spec_; }
  int size() const { return spec_.parameters_size(); }

  // Every parameter drawn uniformly (in log space where the parameter says so).
  std::vector<double> Random(Rng& rng) const;
  // A copy of `values` with at least one parameter moved: a real or integer one by a normal
  // step of a tenth of its range (in log space where it says so), a categorical one to another
  // choice; each parameter moves with probability 1/size.
  std::vector<double> Mutate(const std::vector<double>& values, Rng& rng) const;
  // Each parameter from `a` or `b` with equal probability.
  std::vector<double> Crossover(const std::vector<double>& a, const std::vector<double>& b,
                                Rng& rng) const;

  // The canonical value of parameter `i` nearest to `value` within its bounds.
  double Canonical(int i, double value) const;
  // A value of parameter `i` at fraction u in [0, 1) of its range (log space where it says so);
  // a range of n integers, grid points or choices is n equal bins.
  double At(int i, double u) const;
  // Where value lies in parameter `i`'s range, in [0, 1] (log space where it says so): the
  // centre of its bin for an integer, grid or categorical parameter.
  double Fraction(int i, double value) const;
  // Whether `values` holds one canonical in-bounds value per parameter; else why not.
  absl::Status Check(const std::vector<double>& values) const;
  // Parameter `i`'s canonical value as the command receives it: the shortest decimal that reads
  // back as the real value, the integer, or the choice's name.
  std::string Text(int i, double value) const;
  // The command's argv with every {name} replaced by Text of that parameter.
  std::vector<std::string> Argv(const std::vector<double>& values) const;

 private:
  explicit StudySpace(v1::StudySpec spec) : spec_(std::move(spec)) {}

  v1::StudySpec spec_;  // with defaults filled in (digits, timeout)
  // The argv split at its placeholders: per argument, literal pieces and parameter indices
  // (-1 for a literal piece).
  struct Piece {
    int parameter = -1;
    std::string text;
  };
  std::vector<std::vector<Piece>> argv_;

  // Checks the command (filling in its default time limit) and splits its argv at the
  // placeholders.
  static absl::Status CheckCommand(const v1::StudySpec& spec, v1::StudyCommand& command,
                                   std::vector<std::vector<Piece>>* argv);
};

// Whether `name` is a valid parameter or objective name: [A-Za-z_][A-Za-z0-9_]{0,63}.
bool IsStudyName(const std::string& name);

}  // namespace evolv
