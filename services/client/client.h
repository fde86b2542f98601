// A connection to evolvd for the CLI: the server address (--server, else $EVOLV_SERVER, else
// 127.0.0.1:50051; a host without a port gets evolvd's default port 50051), the bearer token
// (--token-file, else $EVOLV_TOKEN) and a SearchService stub.
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

// evolvd's default gRPC port, which a server address without one gets.
inline constexpr int kDefaultServerPort = 50051;

// `address` with kDefaultServerPort added when it names a host without a port ("localhost",
// "10.0.0.5", "[::1]"); a HOST:PORT, a bare IPv6 address or a gRPC target with a scheme
// ("unix:/run/evolvd.sock", "dns:///host:443") is returned as it is.
std::string WithDefaultPort(const std::string& address);

class Client {
 public:
  // Fails (message in *error) only when the token file cannot be read.
  static std::unique_ptr<Client> Connect(const ClientOptions& options, std::string* error);

  v1::SearchService::Stub& stub() { return *stub_; }
  const std::string& address() const { return address_; }
  // A failed call's status for people: "CODE: message", and for UNAVAILABLE (nothing answers at
  // the address) what to do about it: start evolvd or point --server / EVOLV_SERVER elsewhere.
  std::string Explain(const grpc::Status& status) const;
  // A context with the token and the unary deadline set.
  std::unique_ptr<grpc::ClientContext> Context(bool streaming = false) const;

 private:
  std::string address_;
  std::string token_;
  double timeout_seconds_ = 30;
  std::unique_ptr<v1::SearchService::Stub> stub_;
};

}  // namespace evolv
