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
#include <utility>
#include <vector>

#include "evolv/v1/numerics.pb.h"
#include "evolv/v1/service.grpc.pb.h"

namespace evolv::bench {

class EvolvdProcess {
 public:
  // Starts `evolvd` on `data_dir` with free ports and `extra` flags; waits (up to `timeout`)
  // for its port file.
  EvolvdProcess(const std::string& evolvd, const std::string& data_dir, int workers,
                std::chrono::seconds timeout = std::chrono::seconds(600),
                const std::vector<std::string>& extra = {}) {
    port_file_ = data_dir + ".ports";
    std::remove(port_file_.c_str());
    std::vector<std::string> args = {evolvd};
    for (const auto& [flag, value] :
         std::vector<std::pair<std::string, std::string>>{{"--data-dir", data_dir},
                                                          {"--port-file", port_file_},
                                                          {"--grpc-port", "0"},
                                                          {"--http-port", "0"},
                                                          {"--workers", std::to_string(workers)},
                                                          {"--log-level", "warn"}}) {
      args.push_back(flag);
      args.push_back(value);
    }
    args.insert(args.end(), extra.begin(), extra.end());
    started_ = std::chrono::steady_clock::now();
    pid_ = fork();
    if (pid_ == 0) {
      const std::string log = data_dir + ".log";
      std::freopen(log.c_str(), "a", stderr);
      std::vector<char*> argv;
      for (std::string& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      execv(evolvd.c_str(), argv.data());
      _exit(127);
    }
    const auto deadline = started_ + timeout;
    while (std::chrono::steady_clock::now() < deadline && grpc_port_ == 0) {
      // "grpc=P\nhttp=P\n[cluster=P\n]", written at once when every server listens.
      std::ifstream in(port_file_);
      std::string line;
      while (in && std::getline(in, line)) {
        if (line.rfind("grpc=", 0) == 0) grpc_port_ = std::stoi(line.substr(5));
        if (line.rfind("cluster=", 0) == 0) cluster_port_ = std::stoi(line.substr(8));
      }
      if (grpc_port_ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
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
  pid_t pid() const { return pid_; }
  int cluster_port() const { return cluster_port_; }
  // SIGTERM, then waits for the exit.
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  std::unique_ptr<v1::SearchService::Stub> Stub() const {
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(grpc_port_),
                                       grpc::InsecureChannelCredentials());
    channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return v1::SearchService::NewStub(channel);
  }

 private:
  pid_t pid_ = -1;
  int grpc_port_ = 0;
  int cluster_port_ = 0;
  std::string port_file_;
  std::chrono::steady_clock::time_point started_;
};

// A process's resident memory now (VmRSS) and at its peak so far (VmHWM), in MiB; 0 when
// unreadable.
struct Rss {
  double now_mib = 0;
  double peak_mib = 0;
};
inline Rss ReadRss(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  Rss rss;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) rss.now_mib = std::stod(line.substr(6)) / 1024;
    if (line.rfind("VmHWM:", 0) == 0) rss.peak_mib = std::stod(line.substr(6)) / 1024;
  }
  return rss;
}

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
