// A connection to evolvd for the CLI: the server address (--server, else $EVOLV_SERVER, else
// 127.0.0.1:50051), the bearer token (--token-file, else $EVOLV_TOKEN) and a SearchService stub.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "evolv/v1/service.grpc.pb.h"

namespace evolv {

struct ClientOptions {
  std::string server;      // empty: $EVOLV_SERVER, else 127.0.0.1:50051
  std::string token_file;  // empty: $EVOLV_TOKEN (the token itself), else no token
  double timeout_seconds = 30;
};

class Client {
 public:
  // Fails (message in *error) only when the token file cannot be read.
  static std::unique_ptr<Client> Connect(const ClientOptions& options, std::string* error);

  v1::SearchService::Stub& stub() { return *stub_; }
  const std::string& address() const { return address_; }
  // A context with the token and the unary deadline set.
  std::unique_ptr<grpc::ClientContext> Context(bool streaming = false) const;

 private:
  std::string address_;
  std::string token_;
  double timeout_seconds_ = 30;
  std::unique_ptr<v1::SearchService::Stub> stub_;
};

}  // namespace evolv
