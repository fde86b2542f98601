#include "services/client/client.h"

#include <cstdlib>
#include <fstream>

namespace evolv {

std::unique_ptr<Client> Client::Connect(const ClientOptions& options, std::string* error) {
  auto client = std::unique_ptr<Client>(new Client());
  client->address_ = options.server;
  if (client->address_.empty()) {
    const char* env = std::getenv("EVOLV_SERVER");
    client->address_ = env && *env ? env : "127.0.0.1:50051";
  }
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
