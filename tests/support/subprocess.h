// Runs a real child process for process-level tests: argv, stdout and stderr to files, bounded
// waits, and a kill on destruction so no test leaves a process behind.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace evolv {

class Subprocess {
 public:
  // Starts `argv` with stdout and stderr written to `out_path` and `err_path`, in
  // `working_dir` when one is given (else in this process's); exit code 127 when it cannot start.
  Subprocess(const std::vector<std::string>& argv, const std::string& out_path,
             const std::string& err_path, const std::string& working_dir = "")
      : out_path_(out_path), err_path_(err_path) {
    pid_ = fork();
    if (pid_ == 0) {
      const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(out, 1);
      dup2(err, 2);
      if (!working_dir.empty() && chdir(working_dir.c_str()) != 0) _exit(127);
      const int null = open("/dev/null", O_RDONLY);
      dup2(null, 0);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
  }
  ~Subprocess() {
    if (pid_ > 0 && !exit_code_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  // The exit code (128 + signal when killed by one), or nullopt when still running after
  // `timeout`.
  std::optional<int> Wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!exit_code_) {
      int status = 0;
      const pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        break;
      }
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return exit_code_;
  }

  void Signal(int signal) {
    if (!exit_code_) kill(pid_, signal);
  }

  std::string Stdout() const { return Slurp(out_path_); }
  std::string Stderr() const { return Slurp(err_path_); }

  // The child's process id (for /proc/PID/... checks).
  pid_t pid() const { return pid_; }

  // Waits until stderr contains `needle`; false on timeout or exit.
  // Waits until `done(stderr so far)` holds; false on timeout, or when the process exits first
  // and its final stderr does not satisfy it.
  bool WaitForStderr(const std::function<bool(const std::string&)>& done,
                     std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (done(Stderr())) return true;
      if (Wait(std::chrono::milliseconds(0))) return done(Stderr());
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  bool WaitForStderr(const std::string& needle, std::chrono::milliseconds timeout) {
    return WaitForStderr(
        [&](const std::string& err) { return err.find(needle) != std::string::npos; }, timeout);
  }
  bool WaitForStderr(const std::regex& pattern, std::chrono::milliseconds timeout) {
    return WaitForStderr([&](const std::string& err) { return std::regex_search(err, pattern); },
                         timeout);
  }

  static std::string Slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string out_path_;
  std::string err_path_;
};

}  // namespace evolv
