// Fuzzes job specs as they enter evolv: spec text (JSON or protobuf text format, chosen by
// content) through ParseJobSpec, and JobSpec wire bytes (what the gRPC service receives) through
// CheckSpecEncoding (and, when that passes, ToJson); either way then ValidateJobSpec, which
// builds the problem. Must never crash, leak or hit undefined behaviour whatever the bytes. A
// spec that validates must round-trip: its JSON (ToJson) parses back to the same spec, with the
// same job id, and validates again.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "search/job_spec.h"
#include "services/spec_io.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_domains.h"

namespace {

using evolv::fuzz::Require;

void CheckValidSpecRoundTrips(const evolv::v1::JobSpec& spec, const evolv::ProblemRegistry& r) {
  if (!evolv::ValidateJobSpec(spec, r).ok()) return;
  const std::string json = evolv::ToJson(spec);
  absl::StatusOr<evolv::v1::JobSpec> again = evolv::ParseJobSpec(json, "round-trip", r);
  if (!again.ok()) {
    std::fprintf(stderr, "%s\n%s\n", json.c_str(), again.status().ToString().c_str());
  }
  Require(again.ok(), "the JSON of a valid spec parses");
  Require(evolv::fuzz::SameMessage(spec, *again),
          "the JSON of a valid spec parses to the same spec");
  Require(evolv::JobIdFor(spec) == evolv::JobIdFor(*again), "a round-tripped spec keeps its id");
  Require(evolv::ValidateJobSpec(*again, r).ok(), "a round-tripped valid spec validates");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  evolv::fuzz::QuietProtobufLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const evolv::ProblemRegistry& registry = evolv::fuzz::FuzzProblems();
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<evolv::v1::JobSpec> parsed = evolv::ParseJobSpec(text, "fuzz", registry);
  if (parsed.ok()) CheckValidSpecRoundTrips(*parsed, registry);

  evolv::v1::JobSpec wire;
  if (wire.ParseFromString(text) && evolv::CheckSpecEncoding(wire).ok()) {
    // What the service prints of a request it has only checked the encoding of.
    (void)evolv::ToJson(wire);
    CheckValidSpecRoundTrips(wire, registry);
  }
  return 0;
}
