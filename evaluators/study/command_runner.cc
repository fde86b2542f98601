#include "evaluators/study/command_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

extern char** environ;

namespace evolv {
namespace {

// Appends `data` to `tail`, keeping only its last `limit` bytes.
void KeepTail(std::string& tail, const char* data, size_t size, size_t limit) {
  tail.append(data, size);
  if (tail.size() > limit) tail.erase(0, tail.size() - limit);
}

// Closes a file descriptor when it goes out of scope.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

// The environment the child gets: this process's, with `extra` set on top.
std::vector<std::string> ChildEnvironment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> env;
  for (char** entry = environ; entry && *entry; ++entry) {
    const char* eq = std::strchr(*entry, '=');
    const std::string name = eq ? std::string(*entry, eq - *entry) : std::string(*entry);
    if (!extra.count(name)) env.emplace_back(*entry);
  }
  for (const auto& [name, value] : extra) env.push_back(name + "=" + value);
  return env;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (std::string& s : strings) pointers.push_back(s.data());
  pointers.push_back(nullptr);
  return pointers;
}

}  // namespace

CommandOutcome RunTrialCommand(const CommandRun& run) {
  CommandOutcome outcome;
  if (run.argv.empty()) {
    outcome.error = "no command";
    return outcome;
  }
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) {
    outcome.error = std::string("pipe: ") + std::strerror(errno);
    return outcome;
  }
  Fd out_read{out_pipe[0]}, out_write{out_pipe[1]};
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    outcome.error = std::string("pipe: ") + std::strerror(errno);
    return outcome;
  }
  Fd err_read{err_pipe[0]}, err_write{err_pipe[1]};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_write.fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err_write.fd, STDERR_FILENO);
  if (!run.working_dir.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, run.working_dir.c_str());
  }
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  // Its own process group (killed as one); default signal dispositions and an empty mask.
  sigset_t all, none;
  sigfillset(&all);
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setpgroup(&attributes, 0);
  posix_spawnattr_setflags(&attributes,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<std::string> argv = run.argv;
  std::vector<std::string> env = ChildEnvironment(run.env);
  std::vector<char*> argv_pointers = Pointers(argv);
  std::vector<char*> env_pointers = Pointers(env);
  pid_t pid = -1;
  const int spawned = posix_spawnp(&pid, argv_pointers[0], &actions, &attributes,
                                   argv_pointers.data(), env_pointers.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (spawned != 0) {
    outcome.error = "cannot start " + run.argv[0] + ": " + std::strerror(spawned);
    if (!run.working_dir.empty()) outcome.error += " (working directory " + run.working_dir + ")";
    return outcome;
  }
  outcome.started = true;
  // Only the child writes to the pipes now: their ends close when it (and its group) do.
  close(out_write.fd);
  out_write.fd = -1;
  close(err_write.fd);
  err_write.fd = -1;

  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::nanoseconds>(
                                             std::chrono::duration<double>(run.timeout_seconds));
  int status = 0;
  bool exited = false;
  char buffer[8192];
  for (;;) {
    if (!exited) {
      // Seen without reaping it, so that its pid (the group's id) stays taken while whatever the
      // command left running in its group is killed with it; then reaped.
      siginfo_t info{};
      if (waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid) {
        kill(-pid, SIGKILL);
        waitpid(pid, &status, 0);
        exited = true;
      }
    }
    pollfd fds[2];
    nfds_t count = 0;
    if (out_read.fd >= 0) fds[count++] = {out_read.fd, POLLIN, 0};
    if (err_read.fd >= 0) fds[count++] = {err_read.fd, POLLIN, 0};
    if (count == 0 && exited) break;
    const auto now = std::chrono::steady_clock::now();
    if (!exited && now >= deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      exited = true;
      outcome.timed_out = true;
      continue;
    }
    // Short waits while the child runs, so that its exit is seen even when something else holds
    // the pipes; none once it has exited and only its output is drained.
    const int wait_ms =
        exited ? 0
               : static_cast<int>(std::min<int64_t>(
                     50,
                     std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() +
                         1));
    const int ready = count ? poll(fds, count, wait_ms) : (usleep(wait_ms * 1000), 0);
    if (ready < 0 && errno != EINTR) break;
    bool read_any = false;
    for (nfds_t i = 0; i < count && ready > 0; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const bool is_out = fds[i].fd == out_read.fd;
      const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        read_any = true;
        if (is_out) {
          KeepTail(outcome.stdout_tail, buffer, n, run.stdout_tail_bytes);
        } else {
          KeepTail(outcome.stderr_tail, buffer, n, run.stderr_tail_bytes);
        }
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        Fd& fd = is_out ? out_read : err_read;
        close(fd.fd);
        fd.fd = -1;
      }
    }
    // Exited, and nothing more to read right now: the group was killed, so the pipes are at
    // their end or about to be.
    if (exited && !read_any && ready == 0) break;
  }
  if (WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) outcome.signal = WTERMSIG(status);
  return outcome;
}

}  // namespace evolv
