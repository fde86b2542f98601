// Starting an evolvd child process for the service benchmarks (bench/service_*.cc).
#pragma once

#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "evolv/v1/numerics.pb.h"
#include "evolv/v1/service.grpc.pb.h"

namespace evolv::bench {

class EvolvdProcess {
 public:
  // Starts `evolvd` on `data_dir` with free ports; waits (up to `timeout`) for its port file.
  EvolvdProcess(const std::string& evolvd, const std::string& data_dir, int workers,
                std::chrono::seconds timeout = std::chrono::seconds(600)) {
    port_file_ = data_dir + ".ports";
    std::remove(port_file_.c_str());
    started_ = std::chrono::steady_clock::now();
    pid_ = fork();
    if (pid_ == 0) {
      const std::string w = std::to_string(workers);
      const std::string log = data_dir + ".log";
      std::freopen(log.c_str(), "a", stderr);
      execl(evolvd.c_str(), evolvd.c_str(), "--data-dir", data_dir.c_str(), "--grpc-port", "0",
            "--http-port", "0", "--port-file", port_file_.c_str(), "--workers", w.c_str(),
            "--log-level", "warn", static_cast<char*>(nullptr));
      _exit(127);
    }
    const auto deadline = started_ + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(port_file_);
      std::string line;
      if (in && std::getline(in, line) && line.rfind("grpc=", 0) == 0) {
        grpc_port_ = std::stoi(line.substr(5));
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (grpc_port_ == 0) {
      std::fprintf(stderr, "evolvd did not start\n");
      std::exit(1);
    }
  }
  ~EvolvdProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }
  std::chrono::steady_clock::time_point started() const { return started_; }
  std::unique_ptr<v1::SearchService::Stub> Stub() const {
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(grpc_port_),
                                       grpc::InsecureChannelCredentials());
    channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return v1::SearchService::NewStub(channel);
  }

 private:
  pid_t pid_ = -1;
  int grpc_port_ = 0;
  std::string port_file_;
  std::chrono::steady_clock::time_point started_;
};

inline v1::JobSpec BenchSpec(const std::string& name, uint64_t budget, uint64_t seed) {
  v1::JobSpec spec;
  spec.set_name(name);
  v1::NumericsSpec numerics;
  numerics.set_target("exp2");
  numerics.set_lower(0);
  numerics.set_upper(1);
  numerics.set_max_ops(6);
  numerics.set_fit_points(16);
  spec.mutable_problem()->PackFrom(numerics);
  spec.mutable_strategy()->mutable_nsga2()->set_parents(20);
  spec.mutable_strategy()->mutable_nsga2()->set_children(20);
  spec.mutable_budget()->set_max_evaluations(budget);
  spec.set_seed(seed);
  spec.set_window(8);
  return spec;
}

}  // namespace evolv::bench
