#include "evaluators/study/study_space.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "absl/strings/str_cat.h"

namespace evolv {
namespace {

absl::Status Invalid(const std::string& field, const std::string& reason) {
  return absl::InvalidArgumentError("study." + field + ": " + reason);
}

bool HasNul(const std::string& s) { return s.find('\0') != std::string::npos; }

// `value` rounded to `digits` significant decimal digits (correctly rounded both ways, so the
// same on every machine, and a fixed point for values that already have that many digits).
double RoundDigits(double value, uint32_t digits) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*e", static_cast<int>(digits) - 1, value);
  return std::strtod(text, nullptr);
}

// The number of steps of a grid parameter: values low + k * step, k = 0..Steps.
double Steps(const v1::StudyFloat& real) {
  return std::floor((real.high() - real.low()) / real.step() + 1e-9);
}

}  // namespace

bool IsStudyName(const std::string& name) {
  if (name.empty() || name.size() > kStudyMaxNameBytes) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

absl::StatusOr<StudySpace> StudySpace::Create(const v1::StudySpec& given) {
  v1::StudySpec spec = given;
  if (spec.parameters().empty()) return Invalid("parameters", "the search space is empty");
  if (spec.parameters_size() > kStudyMaxParameters) {
    return Invalid("parameters", absl::StrCat("at most ", kStudyMaxParameters, " parameters"));
  }
  std::set<std::string> names;
  for (int i = 0; i < spec.parameters_size(); ++i) {
    v1::StudyParameter& p = *spec.mutable_parameters(i);
    const std::string field = absl::StrCat("parameters[", i, "]");
    if (!IsStudyName(p.name())) {
      return Invalid(field + ".name", "'" + p.name() + "' is not [A-Za-z_][A-Za-z0-9_]{0,63}");
    }
    if (!names.insert(p.name()).second) {
      return Invalid(field + ".name", "duplicate name '" + p.name() + "'");
    }
    switch (p.kind_case()) {
      case v1::StudyParameter::kReal: {
        v1::StudyFloat& r = *p.mutable_real();
        const std::string f = field + ".real";
        if (!std::isfinite(r.low()) || !std::isfinite(r.high())) {
          return Invalid(f + ".low", "the bounds must be finite");
        }
        if (!(r.high() > r.low())) {
          return Invalid(f + ".high", absl::StrCat("must be above low (", r.low(), ")"));
        }
        if (r.log() && r.low() <= 0) return Invalid(f + ".low", "must be > 0 on a log scale");
        if (!std::isfinite(r.step()) || r.step() < 0) {
          return Invalid(f + ".step", "must be finite and >= 0");
        }
        if (r.step() > 0) {
          if (r.log()) return Invalid(f + ".step", "a grid is for a linear scale only");
          if (r.step() > r.high() - r.low()) return Invalid(f + ".step", "is above high - low");
          if (Steps(r) > 1e15) return Invalid(f + ".step", "more than 1e15 grid points");
        }
        if (r.digits() > kStudyMaxDigits) {
          return Invalid(f + ".digits", absl::StrCat("at most ", kStudyMaxDigits));
        }
        if (r.digits() == 0) r.set_digits(kStudyDefaultDigits);
        break;
      }
      case v1::StudyParameter::kInteger: {
        const v1::StudyInt& n = p.integer();
        const std::string f = field + ".integer";
        if (std::abs(static_cast<double>(n.low())) > kStudyMaxInt ||
            std::abs(static_cast<double>(n.high())) > kStudyMaxInt) {
          return Invalid(f + ".low", "the bounds must be within +-2^53");
        }
        if (n.high() < n.low()) {
          return Invalid(f + ".high", absl::StrCat("must be >= low (", n.low(), ")"));
        }
        if (n.log() && n.low() < 1) return Invalid(f + ".low", "must be >= 1 on a log scale");
        break;
      }
      case v1::StudyParameter::kCategorical: {
        const auto& choices = p.categorical().choices();
        const std::string f = field + ".categorical.choices";
        if (choices.empty()) return Invalid(f, "no choices");
        if (choices.size() > kStudyMaxChoices) {
          return Invalid(f, absl::StrCat("at most ", kStudyMaxChoices, " choices"));
        }
        std::set<std::string> seen;
        for (int c = 0; c < choices.size(); ++c) {
          const std::string& choice = choices[c];
          const std::string fc = absl::StrCat(f, "[", c, "]");
          if (choice.empty() || choice.size() > kStudyMaxChoiceBytes || HasNul(choice)) {
            return Invalid(
                fc, absl::StrCat("must be 1 to ", kStudyMaxChoiceBytes, " bytes without NUL"));
          }
          if (!seen.insert(choice).second) return Invalid(fc, "duplicate choice '" + choice + "'");
        }
        break;
      }
      case v1::StudyParameter::KIND_NOT_SET:
        return Invalid(field, "set one of real, integer, categorical");
    }
  }

  if (spec.objectives().empty()) return Invalid("objectives", "at least one objective");
  if (spec.objectives_size() > kStudyMaxObjectives) {
    return Invalid("objectives", absl::StrCat("at most ", kStudyMaxObjectives, " objectives"));
  }
  std::set<std::string> objective_names;
  for (int i = 0; i < spec.objectives_size(); ++i) {
    const v1::StudyObjective& o = spec.objectives(i);
    const std::string field = absl::StrCat("objectives[", i, "]");
    if (!IsStudyName(o.name())) {
      return Invalid(field + ".name", "'" + o.name() + "' is not [A-Za-z_][A-Za-z0-9_]{0,63}");
    }
    if (!objective_names.insert(o.name()).second) {
      return Invalid(field + ".name", "duplicate name '" + o.name() + "'");
    }
    if (!v1::StudyObjective::Direction_IsValid(o.direction())) {
      return Invalid(field + ".direction", "MINIMIZE or MAXIMIZE");
    }
  }

  std::vector<std::vector<Piece>> argv;
  switch (spec.evaluation_case()) {
    case v1::StudySpec::kCommand:
      if (absl::Status status = CheckCommand(spec, *spec.mutable_command(), &argv); !status.ok()) {
        return status;
      }
      break;
    case v1::StudySpec::kClients:
      if (spec.clients().objective().empty() ||
          spec.clients().objective().size() > kStudyMaxClientObjectiveBytes ||
          HasNul(spec.clients().objective())) {
        return Invalid("clients.objective",
                       absl::StrCat("names the clients' objective function: 1 to ",
                                    kStudyMaxClientObjectiveBytes, " bytes without NUL"));
      }
      break;
    case v1::StudySpec::EVALUATION_NOT_SET:
      return Invalid("command.argv",
                     "the command to run is required (or clients, for trials the clients "
                     "evaluate over SuggestTrials and CompleteTrial)");
  }
  StudySpace space(std::move(spec));
  space.argv_ = std::move(argv);
  return space;
}

absl::Status StudySpace::CheckCommand(const v1::StudySpec& spec, v1::StudyCommand& command,
                                      std::vector<std::vector<Piece>>* argv) {
  if (command.argv().empty() || command.argv(0).empty()) {
    return Invalid("command.argv", "the command to run is required");
  }
  if (command.argv_size() > kStudyMaxArgs) {
    return Invalid("command.argv", absl::StrCat("at most ", kStudyMaxArgs, " arguments"));
  }
  if (command.working_dir().size() > kStudyMaxArgBytes || HasNul(command.working_dir())) {
    return Invalid("command.working_dir", "too long or holds NUL");
  }
  if (command.env_size() > kStudyMaxEnv) {
    return Invalid("command.env", absl::StrCat("at most ", kStudyMaxEnv, " variables"));
  }
  for (const auto& [name, value] : command.env()) {
    if (name.empty() || name.find('=') != std::string::npos || HasNul(name) ||
        name.size() > kStudyMaxArgBytes || value.size() > kStudyMaxArgBytes || HasNul(value)) {
      return Invalid("command.env", "'" + name.substr(0, 64) +
                                        "': a name without '=' and a value, each 1 to 4096 "
                                        "bytes without NUL");
    }
  }
  if (!std::isfinite(command.timeout_seconds()) || command.timeout_seconds() < 0 ||
      command.timeout_seconds() > kStudyMaxTimeoutSeconds) {
    return Invalid("command.timeout_seconds",
                   absl::StrCat("must be in [0, ", kStudyMaxTimeoutSeconds, "] (0 means ",
                                kStudyDefaultTimeoutSeconds, " s)"));
  }
  if (command.timeout_seconds() == 0) command.set_timeout_seconds(kStudyDefaultTimeoutSeconds);

  std::map<std::string, int> index;
  for (int i = 0; i < spec.parameters_size(); ++i) index[spec.parameters(i).name()] = i;
  for (int a = 0; a < command.argv_size(); ++a) {
    const std::string& arg = command.argv(a);
    const std::string field = absl::StrCat("command.argv[", a, "]");
    if (arg.size() > kStudyMaxArgBytes || HasNul(arg)) {
      return Invalid(field, "longer than 4096 bytes or holds NUL");
    }
    std::vector<Piece> pieces(1);
    for (size_t i = 0; i < arg.size(); ++i) {
      if (arg[i] == '{' && i + 1 < arg.size() && arg[i + 1] == '{') {
        pieces.back().text += '{';
        ++i;
      } else if (arg[i] == '}' && i + 1 < arg.size() && arg[i + 1] == '}') {
        pieces.back().text += '}';
        ++i;
      } else if (arg[i] == '}') {
        return Invalid(field, "a lone '}' (write }} for a brace)");
      } else if (arg[i] == '{') {
        const size_t close = arg.find('}', i);
        if (close == std::string::npos) return Invalid(field, "'{' without '}' (write {{)");
        const std::string name = arg.substr(i + 1, close - i - 1);
        auto it = index.find(name);
        if (it == index.end()) {
          return Invalid(field, "unknown placeholder {" + name + "}: not a parameter's name");
        }
        pieces.push_back({it->second, ""});
        pieces.push_back({});
        i = close;
      } else {
        pieces.back().text += arg[i];
      }
    }
    argv->push_back(std::move(pieces));
  }
  return absl::OkStatus();
}

double StudySpace::Canonical(int i, double value) const {
  const v1::StudyParameter& p = spec_.parameters(i);
  switch (p.kind_case()) {
    case v1::StudyParameter::kReal: {
      const v1::StudyFloat& r = p.real();
      if (std::isnan(value)) value = r.low();
      value = std::clamp(value, r.low(), r.high());
      if (r.step() > 0) {
        const double k = std::clamp(std::round((value - r.low()) / r.step()), 0.0, Steps(r));
        return std::min(r.low() + k * r.step(), r.high());
      }
      // A bound is canonical as given; rounding never leaves the range.
      return std::clamp(RoundDigits(value, r.digits()), r.low(), r.high());
    }
    case v1::StudyParameter::kInteger: {
      if (std::isnan(value)) value = p.integer().low();
      return std::clamp(std::round(value), static_cast<double>(p.integer().low()),
                        static_cast<double>(p.integer().high()));
    }
    case v1::StudyParameter::kCategorical:
      if (std::isnan(value)) value = 0;
      return std::clamp(std::round(value), 0.0,
                        static_cast<double>(p.categorical().choices_size() - 1));
    case v1::StudyParameter::KIND_NOT_SET:
      break;
  }
  return value;
}

absl::Status StudySpace::Check(const std::vector<double>& values) const {
  if (static_cast<int>(values.size()) != size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the trial has ", values.size(), " values for ", size(), " parameters"));
  }
  for (int i = 0; i < size(); ++i) {
    if (!std::isfinite(values[i]) || Canonical(i, values[i]) != values[i]) {
      return absl::InvalidArgumentError(absl::StrCat(spec_.parameters(i).name(), ": ", values[i],
                                                     " is not a canonical value in its range"));
    }
  }
  return absl::OkStatus();
}

double StudySpace::At(int i, double u) const {
  const v1::StudyParameter& p = spec_.parameters(i);
  switch (p.kind_case()) {
    case v1::StudyParameter::kReal: {
      const v1::StudyFloat& r = p.real();
      if (r.step() > 0) return Canonical(i, r.low() + std::floor(u * (Steps(r) + 1)) * r.step());
      if (r.log()) {
        const double lo = std::log(r.low()), hi = std::log(r.high());
        return Canonical(i, std::exp(lo + u * (hi - lo)));
      }
      return Canonical(i, r.low() + u * (r.high() - r.low()));
    }
    case v1::StudyParameter::kInteger: {
      const double lo = static_cast<double>(p.integer().low());
      const double hi = static_cast<double>(p.integer().high());
      if (p.integer().log()) {
        const double a = std::log(lo), b = std::log(hi + 1);
        return Canonical(i, std::floor(std::exp(a + u * (b - a))));
      }
      return Canonical(i, lo + std::floor(u * (hi - lo + 1)));
    }
    case v1::StudyParameter::kCategorical:
      return Canonical(i, std::floor(u * p.categorical().choices_size()));
    case v1::StudyParameter::KIND_NOT_SET:
      break;
  }
  return 0;
}

double StudySpace::Fraction(int i, double value) const {
  const v1::StudyParameter& p = spec_.parameters(i);
  switch (p.kind_case()) {
    case v1::StudyParameter::kReal: {
      const v1::StudyFloat& r = p.real();
      if (r.step() > 0) return (std::round((value - r.low()) / r.step()) + 0.5) / (Steps(r) + 1);
      if (r.log()) {
        return (std::log(value) - std::log(r.low())) / (std::log(r.high()) - std::log(r.low()));
      }
      return (value - r.low()) / (r.high() - r.low());
    }
    case v1::StudyParameter::kInteger: {
      const double lo = static_cast<double>(p.integer().low());
      const double hi = static_cast<double>(p.integer().high());
      if (p.integer().log()) {
        return (std::log(value + 0.5) - std::log(lo)) / (std::log(hi + 1) - std::log(lo));
      }
      return (value - lo + 0.5) / (hi - lo + 1);
    }
    case v1::StudyParameter::kCategorical:
      return (value + 0.5) / p.categorical().choices_size();
    case v1::StudyParameter::KIND_NOT_SET:
      break;
  }
  return 0;
}

std::vector<double> StudySpace::Random(Rng& rng) const {
  std::vector<double> values(size());
  for (int i = 0; i < size(); ++i) values[i] = At(i, rng.Uniform());
  return values;
}

std::vector<double> StudySpace::Mutate(const std::vector<double>& parent, Rng& rng) const {
  std::vector<double> values = parent;
  if (static_cast<int>(values.size()) != size()) return Random(rng);
  std::vector<bool> move(size());
  bool any = false;
  for (int i = 0; i < size(); ++i) any |= (move[i] = rng.Bernoulli(1.0 / size()));
  if (!any) move[rng.Below(size())] = true;
  for (int i = 0; i < size(); ++i) {
    if (!move[i]) continue;
    const v1::StudyParameter& p = spec_.parameters(i);
    if (p.has_categorical()) {
      const uint64_t n = p.categorical().choices_size();
      if (n < 2) continue;
      uint64_t choice = rng.Below(n - 1);
      if (choice >= static_cast<uint64_t>(values[i])) ++choice;
      values[i] = static_cast<double>(choice);
      continue;
    }
    // A normal step of a tenth of the range, reflected at the ends; a few tries to move at all.
    for (int attempt = 0; attempt < 4; ++attempt) {
      double u = Fraction(i, values[i]) + 0.1 * rng.Normal();
      u = std::fmod(std::abs(u), 2.0);
      if (u >= 1) u = 2 - u;
      const double moved = At(i, std::min(u, std::nextafter(1.0, 0.0)));
      if (moved != values[i]) {
        values[i] = moved;
        break;
      }
    }
  }
  return values;
}

std::vector<double> StudySpace::Crossover(const std::vector<double>& a,
                                          const std::vector<double>& b, Rng& rng) const {
  std::vector<double> values = a;
  if (a.size() != b.size()) return values;
  for (size_t i = 0; i < values.size(); ++i) {
    if (rng.Bernoulli(0.5)) values[i] = b[i];
  }
  return values;
}

std::string StudySpace::Text(int i, double value) const {
  const v1::StudyParameter& p = spec_.parameters(i);
  value = Canonical(i, value);  // in range, whatever a stored or hostile candidate holds
  if (p.has_categorical()) return p.categorical().choices(static_cast<int>(value));
  if (p.has_integer()) return std::to_string(static_cast<int64_t>(value));
  char text[64];
  const auto result = std::to_chars(text, text + sizeof text, value);
  return std::string(text, result.ptr);
}

std::vector<std::string> StudySpace::Argv(const std::vector<double>& values) const {
  std::vector<std::string> argv;
  argv.reserve(argv_.size());
  for (const std::vector<Piece>& pieces : argv_) {
    std::string arg;
    for (const Piece& piece : pieces) {
      arg += piece.parameter < 0 ? piece.text : Text(piece.parameter, values[piece.parameter]);
    }
    argv.push_back(std::move(arg));
  }
  return argv;
}

}  // namespace evolv
