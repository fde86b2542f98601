// Reads the port file a server writes once all its ports listen (evolvd --port-file): lines of
// NAME=PORT, e.g. "grpc=40123\nhttp=40124\n".
#pragma once

#include <chrono>
#include <fstream>
#include <map>
#include <string>
#include <thread>

namespace evolv::testing {

// The ports in `path` once it names `key`; empty when it does not within `timeout`.
inline std::map<std::string, int> WaitForPortFile(const std::string& path, const std::string& key,
                                                  std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    std::map<std::string, int> ports;
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
      const size_t eq = line.find('=');
      if (eq != std::string::npos) ports[line.substr(0, eq)] = std::stoi(line.substr(eq + 1));
    }
    if (ports.count(key)) return ports;
    if (std::chrono::steady_clock::now() >= deadline) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

}  // namespace evolv::testing
