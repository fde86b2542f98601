#include "evaluators/study/study_problem.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "evaluators/study/command_runner.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "search/pareto.h"

namespace evolv {
namespace {

// The most of stderr a FAILED trial's error quotes.
constexpr size_t kErrorTailBytes = 2000;
constexpr int kChartedParameters = 7;

std::string StderrTail(const CommandOutcome& outcome) {
  std::string tail = outcome.stderr_tail;
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r')) tail.pop_back();
  if (tail.size() > kErrorTailBytes) tail = "..." + tail.substr(tail.size() - kErrorTailBytes);
  return tail.empty() ? "" : "; stderr: " + tail;
}

// The last non-empty line of `text`.
std::string LastLine(const std::string& text) {
  size_t end = text.size();
  while (end > 0) {
    while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r' || text[end - 1] == ' ')) {
      --end;
    }
    const size_t start = text.rfind('\n', end == 0 ? 0 : end - 1);
    const size_t from = start == std::string::npos ? 0 : start + 1;
    if (end > from) return text.substr(from, end - from);
    if (start == std::string::npos) break;
    end = start;
  }
  return "";
}

// An objective's stored value as the user reads it: a maximized one is stored negated.
double Shown(const v1::ObjectiveDisplay& display, double stored) {
  return display.scale() == v1::ObjectiveDisplay::NEGATED ? -stored : stored;
}

std::string Quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      out += absl::StrFormat("\\u%04x", c);
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

absl::StatusOr<std::unique_ptr<Problem>> CreateStudyProblem(const v1::StudySpec& spec) {
  auto space = StudySpace::Create(spec);
  if (!space.ok()) return space.status();
  return std::make_unique<StudyProblem>(std::move(*space));
}

v1::StudySpec StudyExampleSpec() {
  v1::StudySpec spec;
  auto* x = spec.add_parameters();
  x->set_name("x");
  x->mutable_real()->set_low(-5);
  x->mutable_real()->set_high(5);
  auto* kind = spec.add_parameters();
  kind->set_name("kind");
  kind->mutable_categorical()->add_choices("a");
  kind->mutable_categorical()->add_choices("b");
  spec.add_objectives()->set_name("loss");
  spec.mutable_command()->add_argv("python3");
  spec.mutable_command()->add_argv("objective.py");
  spec.mutable_command()->add_argv("--x={x}");
  spec.mutable_command()->add_argv("--kind={kind}");
  return spec;
}

std::string StudyProblem::CanonicalSpec() const {
  v1::StudySpec key = space_.spec();
  for (auto& parameter : *key.mutable_parameters()) parameter.clear_kind();
  if (key.has_command()) key.mutable_command()->clear_timeout_seconds();
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    key.SerializeToCodedStream(&coded);
  }
  return "study:" + bytes;
}

std::vector<std::string> StudyProblem::ObjectiveNames() const {
  std::vector<std::string> names;
  for (const auto& objective : space_.spec().objectives()) names.push_back(objective.name());
  return names;
}

std::vector<v1::ObjectiveDisplay> StudyProblem::ObjectiveDisplays() const {
  std::vector<v1::ObjectiveDisplay> displays;
  for (const auto& objective : space_.spec().objectives()) {
    v1::ObjectiveDisplay& display = displays.emplace_back();
    display.set_name(objective.name());
    if (objective.direction() == v1::StudyObjective::MAXIMIZE) {
      display.set_scale(v1::ObjectiveDisplay::NEGATED);
    }
  }
  return displays;
}

std::vector<double> StudyProblem::Values(const v1::Candidate& candidate) const {
  v1::StudyTrial trial;
  if (!UnpackCandidate(candidate, &trial)) return {};
  return {trial.values().begin(), trial.values().end()};
}

v1::Candidate StudyProblem::Pack(const std::vector<double>& values) const {
  v1::StudyTrial trial;
  trial.mutable_values()->Add(values.begin(), values.end());
  return PackCandidate(trial);
}

v1::Candidate StudyProblem::Random(Rng& rng) const { return Pack(space_.Random(rng)); }

v1::Candidate StudyProblem::Mutate(const v1::Candidate& parent, Rng& rng) const {
  return Pack(space_.Mutate(Values(parent), rng));
}

std::optional<v1::Candidate> StudyProblem::Crossover(const v1::Candidate& a, const v1::Candidate& b,
                                                     Rng& rng) const {
  return Pack(space_.Crossover(Values(a), Values(b), rng));
}

ProbeBytes StudyProblem::Probe(const v1::Candidate& candidate) const {
  const std::vector<double> values = Values(candidate);
  if (static_cast<int>(values.size()) != space_.size()) return "malformed";
  std::string probe;
  for (int i = 0; i < space_.size(); ++i) {
    const std::string text = space_.Text(i, space_.Canonical(i, values[i]));
    absl::StrAppend(&probe, text.size(), ":", text, ";");
  }
  return probe;
}

std::optional<v1::Evaluation> StudyProblem::CheckFeasible(const v1::Candidate& candidate) const {
  return Infeasibility(Values(candidate));
}

std::optional<v1::Evaluation> StudyProblem::Infeasibility(const std::vector<double>& values) const {
  absl::Status status = values.empty() && space_.size() > 0
                            ? absl::InvalidArgumentError("the candidate is not a study trial")
                            : space_.Check(values);
  if (status.ok()) return std::nullopt;
  return UnscoredEvaluation(v1::INFEASIBLE, std::string(status.message()),
                            space_.spec().objectives_size());
}

v1::Evaluation StudyProblem::Evaluate(const v1::Candidate& candidate,
                                      const EvalContext& context) const {
  (void)context;
  const int objectives = space_.spec().objectives_size();
  const std::vector<double> values = Values(candidate);
  if (std::optional<v1::Evaluation> infeasible = Infeasibility(values)) return *infeasible;
  if (!space_.spec().has_command()) {
    return UnscoredEvaluation(
        v1::FAILED, "the study's trials are evaluated by its clients, not on workers", objectives);
  }
  const v1::StudyCommand& command = space_.spec().command();
  CommandRun run;
  run.argv = space_.Argv(values);
  run.working_dir = command.working_dir();
  run.env = {command.env().begin(), command.env().end()};
  run.timeout_seconds = command.timeout_seconds();
  const CommandOutcome outcome = RunTrialCommand(run);
  auto failed = [&](const std::string& error) {
    return UnscoredEvaluation(v1::FAILED, error, objectives);
  };
  if (!outcome.started) return failed(outcome.error);
  if (outcome.timed_out) {
    return failed(
        absl::StrFormat("the command ran past its time limit of %g s", run.timeout_seconds) +
        StderrTail(outcome));
  }
  if (outcome.signal != 0) {
    return failed(absl::StrCat("the command was killed by signal ", outcome.signal) +
                  StderrTail(outcome));
  }
  if (outcome.exit_code != 0) {
    return failed(absl::StrCat("the command exited with status ", outcome.exit_code) +
                  StderrTail(outcome));
  }
  const std::string line = LastLine(outcome.stdout_tail);
  google::protobuf::Struct result;
  if (line.empty() || line.front() != '{' ||
      !google::protobuf::util::JsonStringToMessage(line, &result).ok()) {
    return failed("the command's last line on stdout is not a JSON object: " + line.substr(0, 200) +
                  StderrTail(outcome));
  }
  // A field that is not a number reads as NaN: an objective then "is not a finite number".
  google::protobuf::Map<std::string, double> numbers;
  for (const auto& [name, value] : result.fields()) {
    numbers[name] = value.kind_case() == google::protobuf::Value::kNumberValue
                        ? value.number_value()
                        : std::numeric_limits<double>::quiet_NaN();
  }
  auto evaluation = FromValues(numbers);
  if (!evaluation.ok()) {
    return failed("the command's JSON line: " + std::string(evaluation.status().message()));
  }
  return *evaluation;
}

absl::StatusOr<v1::Evaluation> StudyProblem::FromValues(
    const google::protobuf::Map<std::string, double>& values) const {
  v1::Evaluation evaluation;
  evaluation.set_status(v1::OK);
  for (const v1::StudyObjective& objective : space_.spec().objectives()) {
    auto it = values.find(objective.name());
    if (it == values.end()) {
      return absl::InvalidArgumentError("no objective '" + objective.name() + "'");
    }
    if (!std::isfinite(it->second)) {
      return absl::InvalidArgumentError("objective '" + objective.name() +
                                        "' is not a finite number");
    }
    evaluation.add_objectives(objective.direction() == v1::StudyObjective::MAXIMIZE ? -it->second
                                                                                    : it->second);
  }
  // The other finite numbers, by name order, as metrics.
  std::vector<std::string> names;
  for (const auto& [name, value] : values) {
    if (std::isfinite(value)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  int kept = 0;
  for (const std::string& name : names) {
    const bool is_objective =
        std::any_of(space_.spec().objectives().begin(), space_.spec().objectives().end(),
                    [&](const v1::StudyObjective& o) { return o.name() == name; });
    if (!is_objective && ++kept > kStudyMaxMetrics) continue;
    (*evaluation.mutable_metrics())[name] = values.at(name);
  }
  return evaluation;
}

absl::StatusOr<v1::Evaluation> StudyProblem::ClientEvaluation(
    const v1::Candidate& candidate,
    const google::protobuf::Map<std::string, double>& values) const {
  if (!space_.spec().has_clients()) {
    return absl::FailedPreconditionError("the study's trials are evaluated by its command");
  }
  if (std::optional<v1::Evaluation> infeasible = CheckFeasible(candidate)) {
    return absl::InvalidArgumentError("trial: " + infeasible->error());
  }
  auto evaluation = FromValues(values);
  if (!evaluation.ok()) {
    return absl::InvalidArgumentError("values: " + std::string(evaluation.status().message()));
  }
  return evaluation;
}

std::vector<ParameterSpace::Dimension> StudyProblem::Dimensions() const {
  std::vector<Dimension> dimensions;
  for (const v1::StudyParameter& p : space_.spec().parameters()) {
    Dimension& d = dimensions.emplace_back();
    if (p.has_integer()) d.kind = Kind::kInteger;
    if (p.has_categorical()) {
      d.kind = Kind::kCategorical;
      d.choices = p.categorical().choices_size();
    }
  }
  return dimensions;
}

v1::Candidate StudyProblem::FromUnit(const std::vector<double>& point) const {
  std::vector<double> values(space_.size());
  for (int i = 0; i < space_.size(); ++i) {
    const double u = i < static_cast<int>(point.size()) && std::isfinite(point[i]) ? point[i] : 0;
    // At takes [0, 1): the top of the range is the last bin's.
    values[i] = space_.At(i, std::clamp(u, 0.0, std::nextafter(1.0, 0.0)));
  }
  return Pack(values);
}

std::vector<double> StudyProblem::ToUnit(const v1::Candidate& candidate) const {
  std::vector<double> point = Values(candidate);
  if (static_cast<int>(point.size()) != space_.size()) return {};
  for (int i = 0; i < space_.size(); ++i) point[i] = space_.Fraction(i, point[i]);
  return point;
}

std::string StudyProblem::Render(const v1::Candidate& candidate, RenderFormat format) const {
  const std::vector<double> values = Values(candidate);
  if (static_cast<int>(values.size()) != space_.size()) return "(not a trial of this study)";
  if (format == RenderFormat::kC && space_.spec().has_command()) {
    std::string line;
    for (const std::string& arg : space_.Argv(values)) {
      if (!line.empty()) line += ' ';
      line +=
          arg.find_first_of(" \t\"'\\$`") == std::string::npos && !arg.empty() ? arg : Quoted(arg);
    }
    return line;
  }
  std::string text = format == RenderFormat::kJson ? "{" : "";
  for (int i = 0; i < space_.size(); ++i) {
    const std::string& name = space_.spec().parameters(i).name();
    const std::string value = space_.Text(i, values[i]);
    if (i > 0) text += ", ";
    if (format == RenderFormat::kJson) {
      text += Quoted(name) + ": " +
              (space_.spec().parameters(i).has_categorical() ? Quoted(value) : value);
    } else {
      text += name + "=" + value;
    }
  }
  return format == RenderFormat::kJson ? text + "}" : text;
}

std::string StudyProblem::Report(const std::vector<v1::HistoryEntry>& history) const {
  const std::vector<v1::ObjectiveDisplay> displays = ObjectiveDisplays();
  std::vector<const v1::HistoryEntry*> ok;
  size_t failed = 0, infeasible = 0, hits = 0;
  for (const v1::HistoryEntry& entry : history) {
    if (entry.cache_hit()) ++hits;
    switch (entry.evaluation().status()) {
      case v1::OK:
        ok.push_back(&entry);
        break;
      case v1::INFEASIBLE:
        ++infeasible;
        break;
      default:
        ++failed;
    }
  }
  std::string out = absl::StrFormat(
      "study: %d parameter%s, %d objective%s; command: %s\n"
      "trials: %d (%d OK, %d failed, %d infeasible; %d served from the cache)\n",
      space_.size(), space_.size() == 1 ? "" : "s", space_.spec().objectives_size(),
      space_.spec().objectives_size() == 1 ? "" : "s",
      space_.spec().has_command()
          ? absl::StrJoin(space_.spec().command().argv(), " ")
          : "none (clients evaluate '" + space_.spec().clients().objective() + "')",
      history.size(), ok.size(), failed, infeasible, hits);
  for (auto it = history.rbegin(); it != history.rend(); ++it) {
    if (it->evaluation().status() == v1::FAILED) {
      out += "last failure (trial " + std::to_string(it->index()) +
             "): " + it->evaluation().error().substr(0, 400) + "\n";
      break;
    }
  }
  std::stable_sort(ok.begin(), ok.end(), [](const v1::HistoryEntry* a, const v1::HistoryEntry* b) {
    return std::lexicographical_compare(
        a->evaluation().objectives().begin(), a->evaluation().objectives().end(),
        b->evaluation().objectives().begin(), b->evaluation().objectives().end());
  });
  auto row = [&](const v1::HistoryEntry& entry) {
    std::string line = absl::StrFormat("  trial %6d:", entry.index());
    for (int k = 0;
         k < entry.evaluation().objectives_size() && k < static_cast<int>(displays.size()); ++k) {
      absl::StrAppendFormat(&line, " %s=%.6g", displays[k].name(),
                            Shown(displays[k], entry.evaluation().objectives(k)));
    }
    return line + "  " + Render(entry.candidate(), RenderFormat::kText) + "\n";
  };
  if (!ok.empty()) {
    out += "best trials (by " + displays.front().name() +
           (displays.front().scale() == v1::ObjectiveDisplay::NEGATED ? ", maximized" : "") +
           "):\n";
    // Each configuration once (a cache hit repeats its twin's row).
    std::set<std::string> shown_configurations;
    for (size_t i = 0; i < ok.size() && shown_configurations.size() < 10; ++i) {
      if (shown_configurations.insert(Probe(ok[i]->candidate())).second) out += row(*ok[i]);
    }
  }
  if (space_.spec().objectives_size() > 1 && !ok.empty()) {
    std::vector<Objectives> points;
    for (const v1::HistoryEntry* entry : ok) {
      points.emplace_back(entry->evaluation().objectives().begin(),
                          entry->evaluation().objectives().end());
    }
    const std::vector<size_t> front = ParetoFront(points);
    out += absl::StrFormat("Pareto front (%d trials):\n", front.size());
    for (size_t i = 0; i < front.size() && i < 50; ++i) out += row(*ok[front[i]]);
  }
  return out;
}

std::vector<v1::ReportChart> StudyProblem::Charts(
    const std::vector<v1::HistoryEntry>& history) const {
  const std::vector<v1::ObjectiveDisplay> displays = ObjectiveDisplays();
  const size_t max_points = 2000;
  // Every trial is drawn while they fit; past that, an even sample (the last kept).
  const size_t stride =
      history.size() > max_points ? (history.size() + max_points - 1) / max_points : 1;
  std::vector<v1::ReportChart> charts;
  v1::ReportChart& best = charts.emplace_back();
  best.set_name("best-so-far");
  best.set_title("Best so far");
  best.set_x_label("trial");
  best.set_y_label(displays.size() == 1 ? displays.front().name() : "objective");
  for (size_t k = 0; k < displays.size() && k < 16; ++k) {
    v1::ChartSeries& series = *best.add_series();
    series.set_label(displays[k].name());
    series.set_step(true);
    double best_stored = std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < history.size(); ++i) {
      const v1::Evaluation& e = history[i].evaluation();
      if (e.status() == v1::OK && static_cast<int>(k) < e.objectives_size()) {
        best_stored = std::min(best_stored, e.objectives(k));
      }
      if ((i % stride != 0 && i + 1 != history.size()) || !std::isfinite(best_stored)) continue;
      series.add_x(static_cast<double>(history[i].index()));
      series.add_y(Shown(displays[k], best_stored));
    }
  }
  for (int p = 0; p < space_.size() && p < kChartedParameters; ++p) {
    const v1::StudyParameter& parameter = space_.spec().parameters(p);
    v1::ReportChart& chart = charts.emplace_back();
    chart.set_name("parameter-" + std::to_string(p));
    chart.set_title(displays.front().name() + " against " + parameter.name());
    chart.set_x_label(parameter.has_categorical() ? parameter.name() + " (choice index)"
                                                  : parameter.name());
    chart.set_y_label(displays.front().name());
    chart.set_log_x((parameter.has_real() && parameter.real().log()) ||
                    (parameter.has_integer() && parameter.integer().log()));
    v1::ChartSeries& series = *chart.add_series();
    series.set_label("trials");
    series.set_points(true);
    for (size_t i = 0; i < history.size(); i += stride) {
      const v1::Evaluation& e = history[i].evaluation();
      const std::vector<double> values = Values(history[i].candidate());
      if (e.status() != v1::OK || e.objectives_size() == 0 || p >= static_cast<int>(values.size()))
        continue;
      series.add_x(values[p]);
      series.add_y(Shown(displays.front(), e.objectives(0)));
    }
  }
  return charts;
}

}  // namespace evolv
