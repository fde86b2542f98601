// What every fuzzer of tests/fuzz shares: invariant checks that abort (libFuzzer then records
// the input as a finding), byte-wise message equality, quiet protobuf logging.
// Thread-safety: Require and SameMessage are pure; QuietProtobufLogs is for LLVMFuzzerInitialize.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/message_lite.h"
#include "google/protobuf/stubs/logging.h"

namespace evolv::fuzz {

// Aborts, naming the invariant, when `ok` is false.
inline void Require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
  }
}

// Deterministic wire bytes of `m` (map entries sorted).
inline std::string DeterministicBytes(const google::protobuf::MessageLite& m) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  m.SerializeToCodedStream(&coded);
  coded.Trim();
  return bytes;
}

// Equal deterministic wire bytes: unlike MessageDifferencer, a NaN equals itself.
inline bool SameMessage(const google::protobuf::MessageLite& a,
                        const google::protobuf::MessageLite& b) {
  return DeterministicBytes(a) == DeterministicBytes(b);
}

// For LLVMFuzzerInitialize: drops protobuf's log lines (every malformed input logs one, which
// would bury libFuzzer's).
inline void QuietProtobufLogs() { google::protobuf::SetLogHandler(nullptr); }

}  // namespace evolv::fuzz
