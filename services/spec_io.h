// Reading job specs from files: JSON (protobuf's JSON mapping) or text format, chosen by content
// (a file whose first non-blank character is '{' is JSON).
//
// The problem is a google.protobuf.Any in JobSpec.problem, which both formats can spell out
// ({"problem": {"@type": "type.googleapis.com/<spec type>", ...}} or
// problem { [type.googleapis.com/<spec type>] { ... } }). The short form names the
// domain as a top-level field instead ({"<domain>": {...}}, <domain> { ... }); any domain of
// the registry may be written so.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "evolv/v1/job.pb.h"
#include "search/problem_registry.h"

namespace evolv {

// InvalidArgument naming the file and the parser's reason for an unreadable or malformed file.
absl::StatusOr<v1::JobSpec> LoadJobSpec(const std::string& path, const ProblemRegistry& registry);

// Parses spec text (JSON or text format) as above; `origin` names it in errors.
absl::StatusOr<v1::JobSpec> ParseJobSpec(const std::string& text, const std::string& origin,
                                         const ProblemRegistry& registry);

// A message as JSON (protobuf's mapping; field names as in the .proto files).
std::string ToJson(const google::protobuf::Message& message, bool pretty = true);

}  // namespace evolv
