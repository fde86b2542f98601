// Runs one trial's command: a child process from an argv (no shell), with a working directory,
// extra environment variables and a time limit; its stdout and stderr are read through pipes,
// keeping bounded tails of each.
//
// The child runs in a process group of its own with stdin from /dev/null. On the time limit the
// whole group gets SIGKILL; when the command exits, whatever it left running in its group
// (processes still holding the pipes) is killed too, so a trial never outlives its evaluation.
//
// Thread-safety: RunTrialCommand may be called from many threads at once.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace evolv {

struct CommandRun {
  // argv[0] is looked up in this process's PATH when it has no '/'.
  std::vector<std::string> argv;
  std::string working_dir;                 // empty: this process's
  std::map<std::string, std::string> env;  // set on top of this process's environment
  double timeout_seconds = 600;
  size_t stdout_tail_bytes = 64 << 10;  // the most of stdout kept (its end)
  size_t stderr_tail_bytes = 4 << 10;   // the most of stderr kept (its end)
};

struct CommandOutcome {
  bool started = false;    // false: the process could not be started; `error` says why
  bool timed_out = false;  // killed on the time limit
  int exit_code = -1;      // when it exited on its own
  int signal = 0;          // when a signal ended it (SIGKILL after a timeout)
  std::string stdout_tail;
  std::string stderr_tail;
  std::string error;
};

CommandOutcome RunTrialCommand(const CommandRun& run);

}  // namespace evolv
