// How an actor answers a request over the typed interfaces of actors/protocol.h: (code, message,
// payload), code an absl::StatusCode, payload serialized protobuf bytes when the code is OK; and
// how a handler keeps an exception from leaving the actor.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "caf/all.hpp"
#include "google/protobuf/message.h"
#include "spdlog/spdlog.h"

namespace evolv {

using Reply = caf::result<int32_t, std::string, std::string>;

// The status's code and message, no payload.
Reply Answer(const absl::Status& status);
// OK with the message's bytes.
Reply Answer(const google::protobuf::Message& message);
template <class M>
Reply Answer(const absl::StatusOr<M>& value) {
  return value.ok() ? Answer(*value) : Answer(value.status());
}

// Inside a catch block: the status of the exception being handled, which escaped `what`.
// ResourceExhausted for a failed allocation (std::bad_alloc, or std::length_error from a
// container asked for more than it can hold), Internal for any other exception.
absl::Status CaughtStatus(const std::string& what);

// Runs a message handler's work so that no exception leaves it: a request answers with the
// exception's status (CaughtStatus), a one-way message logs it, and the actor keeps serving.
// `actor` names the actor in the log line.
template <class F>
auto Guarded(std::string_view actor, const std::string& what, F handle) -> decltype(handle()) {
  try {
    return handle();
  } catch (...) {
    const absl::Status status = CaughtStatus(what);
    spdlog::error("{}: {}", actor, status.ToString());
    if constexpr (!std::is_void_v<decltype(handle())>) return Answer(status);
  }
}

}  // namespace evolv
