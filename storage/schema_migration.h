// Upgrading stores written by earlier schema versions, in place, when they are opened.
//
// Schema version 1 carried each built-in domain in a field of its own: JobSpec had one field per
// domain spec and Candidate one per domain candidate message. Version 2 carries both as a
// google.protobuf.Any (JobSpec.problem, Candidate.value), so that no shared message names a
// domain. The upgrade moves those fields into the Any fields, in every stored message that holds
// a JobSpec or Candidate (job records, checkpoints, history rows, cache rows), in one atomic
// write that also sets the new version. Which field held which message type is not the store's
// knowledge: the caller passes it (the problem registry knows it per domain).
//
// The upgraded cache rows stay readable, but no new key ever equals theirs (keys now hash each
// domain's evaluator version), so stale results are never served: jobs re-evaluate what they
// need.
#pragma once

#include <map>
#include <string>

#include "google/protobuf/message.h"

namespace evolv {

struct SchemaV1Fields {
  std::map<int, std::string> job_spec;   // JobSpec field number -> full type of the domain spec
  std::map<int, std::string> candidate;  // Candidate field number -> full type of the candidate
  bool empty() const { return job_spec.empty() && candidate.empty(); }
};

// Moves schema-1 fields (kept by protobuf as unknown fields) into the Any fields, anywhere in
// `message`. Returns true when anything changed.
bool UpgradeFromSchemaV1(google::protobuf::Message* message, const SchemaV1Fields& fields);

}  // namespace evolv
