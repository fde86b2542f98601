// Reading job specs from files: JSON (protobuf's JSON mapping) or text format, chosen by content
// (a file whose first non-blank character is '{' is JSON).
//
// The problem is a google.protobuf.Any in JobSpec.problem, which both formats can spell out
// ({"problem": {"@type": "type.googleapis.com/<spec type>", ...}} or
// problem { [type.googleapis.com/<spec type>] { ... } }). The short form names the
// domain as a top-level field instead ({"<domain>": {...}}, <domain> { ... }); any domain of
// the registry may be written so.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "evolv/v1/job.pb.h"
#include "search/problem_registry.h"

namespace evolv {

// The largest spec file LoadJobSpec reads.
inline constexpr uint64_t kMaxSpecFileBytes = 1 << 20;

// Reads the spec file at `path`: a regular file only (a FIFO, device or directory is refused
// before any read, "PATH: not a regular file (a FIFO)"), of at most kMaxSpecFileBytes (checked
// before reading). InvalidArgument naming the file and the reason for a missing, unreadable,
// oversized or malformed file (evaluators/common/input_file.h words the file errors).
absl::StatusOr<v1::JobSpec> LoadJobSpec(const std::string& path, const ProblemRegistry& registry);

// Parses spec text (JSON or text format) as above; `origin` names it in errors. JSON is read as
// JSON is written: a comma before '}' or ']' is refused ("ORIGIN: malformed JSON job spec: line
// 3, column 20: trailing comma before '}'") although protobuf's own parser would let it pass.
absl::StatusOr<v1::JobSpec> ParseJobSpec(const std::string& text, const std::string& origin,
                                         const ProblemRegistry& registry);

// A message as JSON (protobuf's mapping; field names as in the .proto files).
std::string ToJson(const google::protobuf::Message& message, bool pretty = true);

}  // namespace evolv
