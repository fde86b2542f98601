#include "services/client/client.h"

#include <cstdlib>
#include <fstream>

namespace evolv {
namespace {

const char* StatusName(grpc::StatusCode code) {
  static const char* names[] = {"OK",
                                "CANCELLED",
                                "UNKNOWN",
                                "INVALID_ARGUMENT",
                                "DEADLINE_EXCEEDED",
                                "NOT_FOUND",
                                "ALREADY_EXISTS",
                                "PERMISSION_DENIED",
                                "RESOURCE_EXHAUSTED",
                                "FAILED_PRECONDITION",
                                "ABORTED",
                                "OUT_OF_RANGE",
                                "UNIMPLEMENTED",
                                "INTERNAL",
                                "UNAVAILABLE",
                                "DATA_LOSS",
                                "UNAUTHENTICATED"};
  const int i = static_cast<int>(code);
  return i >= 0 && i <= 16 ? names[i] : "UNKNOWN";
}

}  // namespace

std::string WithDefaultPort(const std::string& address) {
  const std::string port = ":" + std::to_string(kDefaultServerPort);
  if (address.empty()) return address;
  if (address.front() == '[') {  // [v6] or [v6]:port
    const size_t close = address.find(']');
    return close == address.size() - 1 ? address + port : address;
  }
  const size_t colon = address.find(':');
  if (colon == std::string::npos) return address + port;  // a host name or an IPv4 address
  // HOST:PORT keeps its port; anything else with a colon (a scheme, a bare IPv6 address) is a
  // target gRPC reads as it is.
  return address;
}

std::unique_ptr<Client> Client::Connect(const ClientOptions& options, std::string* error) {
  auto client = std::unique_ptr<Client>(new Client());
  client->address_ = options.server;
  if (client->address_.empty()) {
    const char* env = std::getenv("EVOLV_SERVER");
    client->address_ = env && *env ? env : "127.0.0.1";
  }
  client->address_ = WithDefaultPort(client->address_);
  if (!options.token_file.empty()) {
    std::ifstream in(options.token_file);
    if (!in || !std::getline(in, client->token_)) {
      *error = "cannot read the token file " + options.token_file;
      return nullptr;
    }
    while (!client->token_.empty() &&
           (client->token_.back() == '\r' || client->token_.back() == ' ')) {
      client->token_.pop_back();
    }
  } else if (const char* env = std::getenv("EVOLV_TOKEN")) {
    client->token_ = env;
  }
  client->timeout_seconds_ = options.timeout_seconds;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  client->stub_ = v1::SearchService::NewStub(
      grpc::CreateCustomChannel(client->address_, grpc::InsecureChannelCredentials(), args));
  return client;
}

std::string Client::Explain(const grpc::Status& status) const {
  std::string text = std::string(StatusName(status.error_code())) + ": " + status.error_message();
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    text = "cannot reach evolvd at " + address_ + " (" + text +
           ").\nStart evolvd (build/services/evolvd --data-dir DIR --grpc-port " +
           std::to_string(kDefaultServerPort) +
           "; scripts/demo starts one on a free port and prints it), or point --server or "
           "EVOLV_SERVER at a running one (HOST:PORT).";
  }
  return text;
}

std::unique_ptr<grpc::ClientContext> Client::Context(bool streaming) const {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!token_.empty()) context->AddMetadata("authorization", "Bearer " + token_);
  if (!streaming) {
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::milliseconds(static_cast<int64_t>(timeout_seconds_ * 1000)));
  }
  return context;
}

}  // namespace evolv
