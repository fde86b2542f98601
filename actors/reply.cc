#include "actors/reply.h"

#include <new>
#include <stdexcept>

namespace evolv {

Reply Answer(const absl::Status& status) {
  return Reply(static_cast<int32_t>(status.code()), std::string(status.message()), std::string());
}

Reply Answer(const google::protobuf::Message& message) {
  return Reply(static_cast<int32_t>(absl::StatusCode::kOk), std::string(),
               message.SerializeAsString());
}

absl::Status CaughtStatus(const std::string& what) {
  try {
    throw;
  } catch (const std::bad_alloc& e) {
    return absl::ResourceExhaustedError(what + ": out of memory (" + e.what() + ")");
  } catch (const std::length_error& e) {
    return absl::ResourceExhaustedError(what + ": a size beyond any container (" + e.what() + ")");
  } catch (const std::exception& e) {
    return absl::InternalError(what + ": " + e.what());
  } catch (...) {
    return absl::InternalError(what + ": an exception of unknown type");
  }
}

}  // namespace evolv
