#include "search/job_spec.h"

#include <xxhash.h>

#include <cmath>
#include <cstdio>

#include "google/protobuf/any.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/unknown_field_set.h"
#include "search/strategy.h"

namespace evolv {
namespace {

constexpr size_t kMaxName = 200;
constexpr uint32_t kMaxWindow = 4096;
constexpr double kMaxEvaluations = 1e12;
constexpr double kMaxSeconds = 1e7;
constexpr uint32_t kMaxAggregateRepeats = 100;
constexpr int kMaxPriority = 100;

// Nesting deeper than this is refused (protobuf's own parser stops at 100).
constexpr int kMaxDepth = 100;

absl::Status Invalid(const std::string& field, const std::string& reason) {
  return absl::InvalidArgumentError(field + ": " + reason);
}

std::string Join(const std::string& path, const std::string& field) {
  return path.empty() ? field : path + "." + field;
}

// RFC 3629 UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF (what protobuf's
// parser requires of a string field).
bool IsUtf8(const std::string& text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    const unsigned char c = *p;
    int more = 0;
    unsigned char low = 0x80, high = 0xBF;  // the range of the byte after the first
    if (c < 0x80) {
      ++p;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      more = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      more = 2;
      if (c == 0xE0) low = 0xA0;
      if (c == 0xED) high = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      more = 3;
      if (c == 0xF0) low = 0x90;
      if (c == 0xF4) high = 0x8F;
    } else {
      return false;
    }
    if (end - p <= more) return false;
    if (p[1] < low || p[1] > high) return false;
    for (int i = 2; i <= more; ++i) {
      if (p[i] < 0x80 || p[i] > 0xBF) return false;
    }
    p += more + 1;
  }
  return true;
}

// "problem: unknown field 99 (not in evolv.v1.NumericsSpec as this evolvd knows it)"; "spec" names
// the JobSpec itself.
absl::Status UnknownFieldError(const google::protobuf::Descriptor& type, const std::string& path,
                               int number) {
  return Invalid(path.empty() ? "spec" : path, "unknown field " + std::to_string(number) +
                                                   " (not in " + type.full_name() +
                                                   " as this evolvd knows it)");
}

absl::Status CheckWire(const google::protobuf::Descriptor& type, const std::string& bytes,
                       const std::string& path, int depth);

// The message packed in an Any (type_url, value), when its type is linked in; an unknown type is
// left to the problem registry, which refuses it.
absl::Status CheckAny(const std::string& type_url, const std::string& value,
                      const std::string& path, int depth) {
  const std::string type_name = type_url.substr(type_url.rfind('/') + 1);
  const google::protobuf::Descriptor* type =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(type_name);
  if (type == nullptr) return absl::OkStatus();
  return CheckWire(*type, value, path, depth + 1);
}

// Checks serialized bytes of `type` field by field without parsing them into the message (which
// would fail on bad UTF-8 without naming the field): every field number known to `type`, every
// string field UTF-8, nested messages (and Any's packed message) likewise.
absl::Status CheckWire(const google::protobuf::Descriptor& type, const std::string& bytes,
                       const std::string& path, int depth) {
  using google::protobuf::FieldDescriptor;
  using google::protobuf::UnknownField;
  if (depth > kMaxDepth) return Invalid(path, "nested deeper than " + std::to_string(kMaxDepth));
  google::protobuf::UnknownFieldSet fields;
  if (!fields.ParseFromString(bytes)) return Invalid(path, "malformed message bytes");
  std::string type_url, value;
  for (int i = 0; i < fields.field_count(); ++i) {
    const UnknownField& field = fields.field(i);
    const FieldDescriptor* known = type.FindFieldByNumber(field.number());
    if (known == nullptr) {
      return UnknownFieldError(type, path, field.number());
    }
    if (field.type() != UnknownField::TYPE_LENGTH_DELIMITED) continue;
    const std::string& data = field.length_delimited();
    if (known->type() == FieldDescriptor::TYPE_STRING && !IsUtf8(data)) {
      return Invalid(Join(path, known->name()), "not valid UTF-8");
    }
    if (type.full_name() == google::protobuf::Any::descriptor()->full_name()) {
      (known->number() == google::protobuf::Any::kTypeUrlFieldNumber ? type_url : value) = data;
    } else if (known->type() == FieldDescriptor::TYPE_MESSAGE) {
      if (absl::Status status =
              CheckWire(*known->message_type(), data, Join(path, known->name()), depth + 1);
          !status.ok()) {
        return status;
      }
    }
  }
  if (type.full_name() == google::protobuf::Any::descriptor()->full_name()) {
    return CheckAny(type_url, value, path, depth);
  }
  return absl::OkStatus();
}

// Checks a parsed message: no unknown fields, every string field UTF-8 (a message built in
// memory, or parsed from text or JSON, may hold any bytes), recursively, Any's packed message by
// its bytes (CheckWire). The message starts with the field path, e.g. "name: not valid UTF-8".
absl::Status CheckFields(const google::protobuf::Message& message, const std::string& path,
                         int depth) {
  using google::protobuf::FieldDescriptor;
  if (depth > kMaxDepth) return Invalid(path, "nested deeper than " + std::to_string(kMaxDepth));
  const google::protobuf::Reflection& reflection = *message.GetReflection();
  const google::protobuf::Descriptor& type = *message.GetDescriptor();
  const google::protobuf::UnknownFieldSet& unknown = reflection.GetUnknownFields(message);
  if (!unknown.empty()) {
    return UnknownFieldError(type, path, unknown.field(0).number());
  }
  if (type.full_name() == google::protobuf::Any::descriptor()->full_name()) {
    return CheckAny(reflection.GetString(message, type.FindFieldByName("type_url")),
                    reflection.GetString(message, type.FindFieldByName("value")), path, depth);
  }
  std::vector<const FieldDescriptor*> fields;
  reflection.ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    const std::string field_path = Join(path, field->name());
    const int count = field->is_repeated() ? reflection.FieldSize(message, field) : 1;
    for (int i = 0; i < count; ++i) {
      if (field->type() == FieldDescriptor::TYPE_STRING) {
        const std::string text = field->is_repeated()
                                     ? reflection.GetRepeatedString(message, field, i)
                                     : reflection.GetString(message, field);
        if (!IsUtf8(text)) return Invalid(field_path, "not valid UTF-8");
      } else if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
        const google::protobuf::Message& child =
            field->is_repeated() ? reflection.GetRepeatedMessage(message, field, i)
                                 : reflection.GetMessage(message, field);
        if (absl::Status status = CheckFields(child, field_path, depth + 1); !status.ok()) {
          return status;
        }
      }
    }
  }
  return absl::OkStatus();
}

std::string MiB(uint64_t bytes) { return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB"; }

// INVALID_ARGUMENT naming the domain when one of the problem's seeds (the candidates a search
// starts from) is estimated to take more memory to evaluate than limits.max_evaluation_bytes.
absl::Status CheckSeedMemory(const Problem& problem, const JobLimits& limits) {
  for (const v1::Candidate& seed : problem.Seeds()) {
    const uint64_t bytes = problem.EvaluationBytes(seed);
    if (bytes <= limits.max_evaluation_bytes) continue;
    return absl::InvalidArgumentError(problem.Domain() + ": evaluating the candidate \"" +
                                      problem.Render(seed, RenderFormat::kText) +
                                      "\" would take about " + MiB(bytes) +
                                      ", above the limit of " + MiB(limits.max_evaluation_bytes) +
                                      " per evaluation (evolvd --max-evaluation-memory)");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckSpecEncoding(const v1::JobSpec& spec) { return CheckFields(spec, "", 0); }

absl::StatusOr<JobParts> ValidateAndBuild(const v1::JobSpec& spec, const ProblemRegistry& registry,
                                          const JobLimits& limits) {
  if (absl::Status status = CheckSpecEncoding(spec); !status.ok()) return status;
  if (spec.name().size() > kMaxName) {
    return Invalid("name", "longer than " + std::to_string(kMaxName) + " bytes");
  }
  if (spec.window() > kMaxWindow) {
    return Invalid("window", std::to_string(spec.window()) + " exceeds the limit " +
                                 std::to_string(kMaxWindow));
  }
  const v1::Budget& budget = spec.budget();
  if (!std::isfinite(budget.max_seconds()) || budget.max_seconds() < 0) {
    return Invalid("budget.max_seconds", "must be a finite number >= 0");
  }
  if (static_cast<double>(budget.max_evaluations()) > kMaxEvaluations) {
    return Invalid("budget.max_evaluations", "exceeds the limit 1e12");
  }
  if (budget.max_seconds() > kMaxSeconds) {
    return Invalid("budget.max_seconds", "exceeds the limit 1e7");
  }
  if (!v1::CacheMode_IsValid(spec.cache().mode())) {
    return Invalid("cache.mode", "unknown mode " + std::to_string(spec.cache().mode()) +
                                     " (CACHE, AGGREGATE, COUNTERFACTUAL or OFF)");
  }
  if (spec.cache().aggregate_repeats() > kMaxAggregateRepeats) {
    return Invalid("cache.aggregate_repeats",
                   "exceeds the limit " + std::to_string(kMaxAggregateRepeats));
  }
  if (spec.priority() > kMaxPriority || spec.priority() < -kMaxPriority) {
    return Invalid("priority", "must be in [-100, 100]");
  }
  if (absl::Status status = ValidateStrategy(spec.strategy()); !status.ok()) return status;
  // A strategy the problem cannot drive (e.g. a bandit over a problem without arms) is a bad
  // spec, refused here rather than stored as a job that fails.
  auto parts = BuildJobParts(spec, registry, limits);
  if (!parts.ok()) return parts.status();
  if (absl::Status status = CheckSeedMemory(*parts->problem, limits); !status.ok()) return status;
  if (budget.max_evaluations() == 0 && budget.max_seconds() == 0 &&
      parts->strategy->NaturalEvaluations() == 0) {
    return Invalid("budget", "zero budget; set budget.max_evaluations or budget.max_seconds");
  }
  return parts;
}

absl::Status ValidateJobSpec(const v1::JobSpec& spec, const ProblemRegistry& registry) {
  return ValidateAndBuild(spec, registry).status();
}

absl::StatusOr<JobParts> BuildJobParts(const v1::JobSpec& spec, const ProblemRegistry& registry,
                                       const JobLimits& limits) {
  auto problem = registry.Create(spec);
  if (!problem.ok()) return problem.status();
  auto strategy = CreateStrategy(spec, **problem, limits);
  if (!strategy.ok()) return strategy.status();
  return JobParts{std::move(*problem), std::move(*strategy), limits.max_evaluation_bytes};
}

std::string JobIdFor(const v1::JobSpec& spec) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    spec.SerializeToCodedStream(&coded);
  }
  char id[24];
  std::snprintf(id, sizeof(id), "j%016llx",
                static_cast<unsigned long long>(XXH3_64bits(bytes.data(), bytes.size())));
  return id;
}

}  // namespace evolv
