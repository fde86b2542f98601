// Load and soak under crashes: a real evolvd with remote evolv-worker processes, a fixed rate of
// mixed client requests, and kill -9 of evolvd and of a worker in turn every few seconds; then the
// checks that nothing acknowledged was lost and that every finished job's history is that of an
// uninterrupted run.
//
//   build/bench/soak [--seconds 300] [--rate 20] [--clients 4] [--kill-every 30] [--workers 2]
//                    [--budget 10000] [--specs 8] [--max-live 6] [--drain-seconds 600]
//
// The run:
//   * evolvd --workers 0 with a cluster port (data dir and cluster secret in a temp dir, ports
//     chosen by evolvd at the first start through --port-file and reused on every restart), and
//     `--workers` evolv-worker processes joining it.
//   * `--clients` threads send, open loop, `--rate` requests/s in all: SubmitJob 6 %, GetJob
//     31.5 %, ListJobs 15 %, QueryEvaluations by job 30 % (a history page, best first), PauseJob
//     8 %, ResumeJob 9.2 %, CancelJob 0.3 %, on random jobs in the state the call wants. A
//     SubmitJob slot while `--max-live` jobs are live is sent as a ListJobs of the live jobs
//     instead (the workers' throughput, not the rate, bounds how many jobs can run). Every call has
//     a 10 s deadline; channels reconnect within about a second of a restart.
//   * Jobs are numerics searches (bench::BenchSpec) with an evaluation budget, one of `--specs`
//     specs k (seed k + 1), so histories are deterministic; every fourth spec (k % 4 == 3) uses
//     the cache, the others run with cache OFF (see CacheOn below for why that matters).
//   * Every `--kill-every` seconds, in turn: kill -9 evolvd and start it again on the same data dir
//     and ports, or kill -9 one worker (round robin) and start it again.
// At the end: the kills stop, paused jobs are resumed, every job runs to its end (at most
// `--drain-seconds`), and the checks run:
//   (a) lost acknowledged jobs: ids whose SubmitJob returned OK and that ListJobs no longer has;
//   (b) history mismatches: a SUCCEEDED cache-OFF job whose history (candidate and objectives
//       per index, as tests/support/engine_driver.h HistoryFingerprint compares them; the
//       candidate as the API shows it, refined where the evaluation refined it) differs from that
//       of the same spec run uninterrupted in a fresh evolvd on its own data dir (2 local
//       workers, no kills), a CANCELLED cache-OFF job whose history is not a prefix of it, and any
//       job that FAILED or did not end;
//   (c) lost evaluations: history rows a QueryEvaluations returned during the run (so stored)
//       that are missing from, or differ in, the final history.
// Each is printed in bench/bench_target.h's format with target 0; the exit status is 1 when one
// misses, 2 on bad usage or when evolvd cannot be started. The report also gives requests served
// (OK) per kind with p50/p99/max latency of those, errors per code (UNAVAILABLE and
// DEADLINE_EXCEEDED, expected while evolvd restarts, and FAILED_PRECONDITION on a job that ended
// meanwhile are counted apart from the rest), the restarts of evolvd and of workers with the
// time from each kill of evolvd to its listening again, to an OK answer on a new connection and
// to the clients' first OK answer (their channels' reconnect backoff adds to it), and any
// process that did not exit within 30 s of the final SIGTERM (then killed; not a failed check).
//
// The hour: `build/bench/soak --seconds 3600 --kill-every 120` (15 evolvd and 14 worker kills;
// about 70 minutes with the drain, the history reads and the reference runs; not run yet). The
// default 300 s takes about 7 minutes. The temp dir the report names keeps both stores and every
// process's log (about 150 MB after the default run, some 2 GB after the hour); remove it after.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_target.h"
#include "bench/service_harness.h"

using namespace evolv;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  double seconds = 300;
  double rate = 20;
  int clients = 4;
  double kill_every = 30;
  int workers = 2;
  uint64_t budget = 10000;
  int specs = 8;
  int max_live = 6;
  double drain_seconds = 600;
};

constexpr auto kCallDeadline = std::chrono::seconds(10);

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// ---- child processes ---------------------------------------------------------------------------

std::mutex g_children_mutex;
std::set<pid_t> g_children;  // started and not yet reaped: SIGTERMed when the bench exits early

void StopChildrenAtExit() {
  std::lock_guard<std::mutex> lock(g_children_mutex);
  for (pid_t pid : g_children) kill(pid, SIGTERM);
}

// One child process with stdout and stderr appended to a log file.
class Child {
 public:
  void Start(const std::vector<std::string>& args, const std::string& log) {
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    pid_ = fork();
    if (pid_ == 0) {
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
      }
      execv(argv[0], argv.data());
      _exit(127);
    }
    if (fd >= 0) close(fd);
    std::lock_guard<std::mutex> lock(g_children_mutex);
    g_children.insert(pid_);
  }
  // Sends `signal` and reaps the process. False when it has not exited `patience` later: it is
  // then killed with SIGKILL (and reaped).
  bool Stop(int signal, std::chrono::seconds patience = std::chrono::seconds(30)) {
    if (pid_ <= 0) return true;
    kill(pid_, signal);
    const auto deadline = Clock::now() + patience;
    while (Clock::now() < deadline) {
      if (Exited()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(pid_, SIGKILL);
    Reap();
    return false;
  }
  // True (and reaped) when the process has exited.
  bool Exited() {
    int status = 0;
    if (pid_ > 0 && waitpid(pid_, &status, WNOHANG) == pid_) {
      Forget();
      return true;
    }
    return false;
  }
  pid_t pid() const { return pid_; }

 private:
  void Reap() {
    int status = 0;
    waitpid(pid_, &status, 0);
    Forget();
  }
  void Forget() {
    std::lock_guard<std::mutex> lock(g_children_mutex);
    g_children.erase(pid_);
    pid_ = -1;
  }
  pid_t pid_ = -1;
};

struct Ports {
  int grpc = 0, http = 0, cluster = 0;
};

// Reads evolvd's port file ("grpc=P\nhttp=P\ncluster=P\n", written atomically once all listen).
bool ReadPortFile(const std::string& path, Ports* ports) {
  std::ifstream in(path);
  std::string line;
  Ports read;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    const int value = std::atoi(line.c_str() + eq + 1);
    if (line.compare(0, eq, "grpc") == 0) read.grpc = value;
    if (line.compare(0, eq, "http") == 0) read.http = value;
    if (line.compare(0, eq, "cluster") == 0) read.cluster = value;
  }
  if (read.grpc == 0 || read.http == 0 || read.cluster == 0) return false;
  *ports = read;
  return true;
}

// evolvd with remote workers only, restartable on the same data dir and ports.
class Cluster {
 public:
  Cluster(std::string dir, int workers) : dir_(std::move(dir)), workers_(workers) {
    secret_ = dir_ + "/cluster-secret";
    std::ofstream(secret_) << "soak-bench cluster secret\n";
  }

  // Starts evolvd (ports 0 the first time, then the same ones); false when 20 tries fail, each
  // waiting up to 120 s for the port file (a try ends early when evolvd exits, e.g. on a port
  // that is not free yet).
  bool StartEvolvd() {
    const std::string port_file = dir_ + "/ports";
    for (int attempt = 0; attempt < 20; ++attempt) {
      std::remove(port_file.c_str());
      evolvd_.Start({EVOLVD_PATH, "--data-dir", dir_ + "/data", "--grpc-port",
                     std::to_string(ports_.grpc), "--http-port", std::to_string(ports_.http),
                     "--cluster-port", std::to_string(ports_.cluster), "--cluster-secret-file",
                     secret_, "--port-file", port_file, "--workers", "0", "--log-level", "info"},
                    dir_ + "/evolvd.log");
      const auto deadline = Clock::now() + std::chrono::seconds(120);
      while (Clock::now() < deadline) {
        if (ReadPortFile(port_file, &ports_)) return true;
        if (evolvd_.Exited()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      if (evolvd_.pid() > 0) evolvd_.Stop(SIGKILL);
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    return false;
  }
  void StartWorker(size_t i) {
    if (worker_processes_.size() <= i) worker_processes_.resize(i + 1);
    worker_processes_[i].Start(
        {EVOLV_WORKER_PATH, "--connect", "127.0.0.1:" + std::to_string(ports_.cluster),
         "--secret-file", secret_},
        dir_ + "/worker" + std::to_string(i) + ".log");
  }
  bool Start() {
    if (!StartEvolvd()) return false;
    for (int i = 0; i < workers_; ++i) StartWorker(i);
    return true;
  }
  // kill -9 evolvd and start it again; returns seconds from the kill to listening, or -1.
  double CrashEvolvd() {
    const auto t0 = Clock::now();
    evolvd_.Stop(SIGKILL);
    if (!StartEvolvd()) return -1;
    return Seconds(Clock::now() - t0);
  }
  void CrashWorker(size_t i) {
    worker_processes_[i].Stop(SIGKILL);
    StartWorker(i);
  }
  // SIGTERM to everything (evolvd checkpoints its jobs and exits 0); returns the processes that
  // had not exited 30 s later (then killed), e.g. "worker 1".
  std::vector<std::string> Stop() {
    std::vector<std::string> hung;
    for (size_t i = 0; i < worker_processes_.size(); ++i) {
      if (!worker_processes_[i].Stop(SIGTERM)) hung.push_back("worker " + std::to_string(i));
    }
    if (!evolvd_.Stop(SIGTERM)) hung.push_back("evolvd");
    return hung;
  }
  int grpc_port() const { return ports_.grpc; }

 private:
  std::string dir_, secret_;
  int workers_;
  Ports ports_;
  Child evolvd_;
  std::vector<Child> worker_processes_;
};

// A channel that reconnects quickly after evolvd restarts (gRPC's default backoff grows to 120 s).
// GRPC_ARG_MIN_RECONNECT_BACKOFF_MS stays at its default: it is also the deadline of a connection
// attempt, and a short one fails attempts ("tcp handshaker shutdown") on a loaded machine.
std::unique_ptr<v1::SearchService::Stub> Connect(int port) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  return v1::SearchService::NewStub(grpc::CreateCustomChannel(
      "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials(), args));
}

// Seconds from `since` to an OK ListJobs on a new connection of its own (a unique channel
// argument keeps gRPC from sharing the clients' subchannel), waiting for it up to 60 s; -1 when
// none. This is when evolvd serves again, apart from the clients' reconnect backoff.
double FirstAnswerOnANewConnection(int port, Clock::time_point since) {
  static int probes = 0;
  grpc::ChannelArguments args;
  args.SetInt("evolv.soak.probe", ++probes);
  auto stub = v1::SearchService::NewStub(grpc::CreateCustomChannel(
      "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials(), args));
  grpc::ClientContext context;
  context.set_wait_for_ready(true);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  v1::ListJobsRequest request;
  request.set_page_size(1);
  v1::ListJobsResponse response;
  if (!stub->ListJobs(&context, request, &response).ok()) return -1;
  return Seconds(Clock::now() - since);
}

void SetDeadline(grpc::ClientContext* context) {
  context->set_deadline(std::chrono::system_clock::now() + kCallDeadline);
}

// ---- the jobs ------------------------------------------------------------------------------

const char kSpecPrefix[] = "soak spec ";

// Every fourth spec uses the cache. Only cache-OFF histories are comparable with a run in another
// store: a hit is the stored row of whichever job first evaluated an equivalent candidate, with
// that candidate's refinement (which NSGA-II inherits) and an error within the domain's contract
// (docs/adr/0005-cache-contract.md), so a cached job's history depends on what the shared store
// held when it ran.
bool CacheOn(int k) { return k % 4 == 3; }

v1::JobSpec SoakSpec(int k, uint64_t budget) {
  v1::JobSpec spec = bench::BenchSpec(kSpecPrefix + std::to_string(k), budget, k + 1);
  spec.mutable_cache()->set_mode(CacheOn(k) ? v1::CACHE : v1::OFF);
  return spec;
}

// The spec index in a job's name, or -1 for a job this bench did not submit.
int SpecIndex(const v1::JobRecord& job) {
  const std::string& name = job.spec().name();
  if (name.rfind(kSpecPrefix, 0) != 0) return -1;
  return std::atoi(name.c_str() + sizeof(kSpecPrefix) - 1);
}

bool Live(v1::JobState state) {
  return state == v1::PENDING || state == v1::RUNNING || state == v1::PAUSED;
}

// One history row as tests/support/engine_driver.h HistoryFingerprint sees it: the candidate (as
// the API shows it) and the objectives, hashed.
uint64_t Fingerprint(const v1::EvaluationRow& row) {
  std::string f = row.candidate().SerializeAsString();
  for (double o : row.evaluation().objectives()) f += "|" + std::to_string(o);
  return std::hash<std::string>()(f);
}

// What the clients know of the jobs, shared by the client threads.
class JobTable {
 public:
  void Saw(const v1::JobRecord& job, bool acknowledged) {
    std::lock_guard<std::mutex> lock(mutex_);
    Entry& e = jobs_[job.id()];
    e.state = job.state();
    if (acknowledged) e.acknowledged = true;
  }
  // Updates from a ListJobs of every live job (`complete`: all of them were on the page): a job
  // believed live that is not listed has ended.
  void SawLive(const v1::ListJobsResponse& response, bool complete) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::set<std::string> listed;
    for (const auto& job : response.jobs()) {
      jobs_[job.id()].state = job.state();
      listed.insert(job.id());
    }
    if (!complete) return;
    for (auto& [id, e] : jobs_) {
      if (Live(e.state) && !listed.count(id)) e.state = v1::JOB_STATE_UNSPECIFIED;
    }
  }
  int LiveCount() {
    std::lock_guard<std::mutex> lock(mutex_);
    int n = 0;
    for (const auto& [id, e] : jobs_) n += Live(e.state);
    return n;
  }
  // A random job for which `want(state)` holds; empty when none.
  std::string Pick(std::mt19937_64& rng, const std::function<bool(v1::JobState)>& want) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<const std::string*> candidates;
    for (const auto& [id, e] : jobs_) {
      if (want(e.state)) candidates.push_back(&id);
    }
    if (candidates.empty()) return {};
    return *candidates[std::uniform_int_distribution<size_t>(0, candidates.size() - 1)(rng)];
  }
  std::vector<std::string> LiveIds() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> ids;
    for (const auto& [id, e] : jobs_) {
      if (Live(e.state)) ids.push_back(id);
    }
    return ids;
  }
  std::vector<std::string> Acknowledged() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> ids;
    for (const auto& [id, e] : jobs_) {
      if (e.acknowledged) ids.push_back(id);
    }
    return ids;
  }

 private:
  struct Entry {
    v1::JobState state = v1::PENDING;
    bool acknowledged = false;
  };
  std::mutex mutex_;
  std::map<std::string, Entry> jobs_;
};

// History rows seen stored: (job, index) -> fingerprint, shared by the client threads (read
// without the lock once they have stopped).
struct SeenRows {
  void Saw(const v1::QueryEvaluationsResponse& response) {
    std::lock_guard<std::mutex> lock(mutex);
    for (const auto& row : response.rows()) rows[{row.job_id(), row.index()}] = Fingerprint(row);
  }
  std::map<std::pair<std::string, uint64_t>, uint64_t> rows;
  std::mutex mutex;
};

// ---- the request mix ---------------------------------------------------------------------------

enum Kind { kSubmit, kGet, kList, kQuery, kPause, kResume, kCancel, kKinds };
const char* const kKindNames[kKinds] = {"SubmitJob", "GetJob",    "ListJobs", "QueryEvaluations",
                                        "PauseJob",  "ResumeJob", "CancelJob"};
const int kPerMille[kKinds] = {60, 315, 150, 300, 80, 92, 3};

struct KindStats {
  std::vector<double> ok_ms;
  std::map<grpc::StatusCode, uint64_t> errors;
  std::map<grpc::StatusCode, std::set<std::string>> messages;  // at most 3 distinct per code
  uint64_t no_target = 0;  // no job in the state the call wants: not sent
};

struct ClientStats {
  KindStats kinds[kKinds];
};

struct Shared {
  const Options* options;
  JobTable jobs;
  SeenRows seen;
  std::atomic<int> grpc_port{0};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> submitted{0};
  // When evolvd was last killed (since t0), until a request sent after that is answered OK.
  std::atomic<int64_t> outage_since_ns{-1};
  std::mutex outages_mutex;
  std::vector<double> outages;  // seconds from each kill of evolvd to the first OK answer
};

void Client(Shared& shared, int index, Clock::time_point t0, ClientStats* stats) {
  const Options& options = *shared.options;
  std::mt19937_64 rng(1000 + index);
  auto stub = Connect(shared.grpc_port.load());
  const auto period = std::chrono::duration<double>(options.clients / options.rate);
  const auto offset = period * (static_cast<double>(index) / options.clients);
  for (uint64_t k = 0; !shared.stop.load(); ++k) {
    const auto when = t0 + std::chrono::duration_cast<Clock::duration>(offset + period * k);
    if (Seconds(when - t0) >= options.seconds) break;
    std::this_thread::sleep_until(when);
    int roll = std::uniform_int_distribution<int>(0, 999)(rng);
    Kind kind = kKinds;
    for (int i = 0; i < kKinds; ++i) {
      if (roll < kPerMille[i]) {
        kind = static_cast<Kind>(i);
        break;
      }
      roll -= kPerMille[i];
    }
    if (kind == kSubmit && shared.jobs.LiveCount() >= options.max_live) kind = kList;
    std::string job;
    const auto any = [](v1::JobState) { return true; };
    if (kind == kGet || kind == kQuery) job = shared.jobs.Pick(rng, any);
    const auto running = [](v1::JobState s) { return s == v1::RUNNING; };
    const auto paused = [](v1::JobState s) { return s == v1::PAUSED; };
    if (kind == kPause) job = shared.jobs.Pick(rng, running);
    if (kind == kResume) job = shared.jobs.Pick(rng, paused);
    if (kind == kCancel) job = shared.jobs.Pick(rng, Live);
    KindStats& ks = stats->kinds[kind];
    if (kind != kSubmit && kind != kList && job.empty()) {
      ++ks.no_target;
      continue;
    }
    grpc::ClientContext context;
    SetDeadline(&context);
    grpc::Status status;
    v1::JobRecord record;
    const auto start = Clock::now();
    switch (kind) {
      case kSubmit: {
        v1::SubmitJobRequest request;
        const int spec = std::uniform_int_distribution<int>(0, options.specs - 1)(rng);
        *request.mutable_spec() = SoakSpec(spec, options.budget);
        status = stub->SubmitJob(&context, request, &record);
        break;
      }
      case kGet: {
        v1::GetJobRequest request;
        request.set_job_id(job);
        status = stub->GetJob(&context, request, &record);
        break;
      }
      case kList: {
        v1::ListJobsRequest request;
        request.add_states(v1::PENDING);
        request.add_states(v1::RUNNING);
        request.add_states(v1::PAUSED);
        request.set_page_size(1000);
        v1::ListJobsResponse response;
        status = stub->ListJobs(&context, request, &response);
        if (status.ok()) shared.jobs.SawLive(response, response.next_page_token().empty());
        break;
      }
      case kQuery: {
        v1::QueryEvaluationsRequest request;
        request.set_job_id(job);
        request.set_objective_index(static_cast<int>(rng() % 2));
        request.set_page_size(20);
        v1::QueryEvaluationsResponse response;
        status = stub->QueryEvaluations(&context, request, &response);
        if (status.ok()) shared.seen.Saw(response);
        break;
      }
      case kPause: {
        v1::PauseJobRequest request;
        request.set_job_id(job);
        status = stub->PauseJob(&context, request, &record);
        break;
      }
      case kResume: {
        v1::ResumeJobRequest request;
        request.set_job_id(job);
        status = stub->ResumeJob(&context, request, &record);
        break;
      }
      case kCancel: {
        v1::CancelJobRequest request;
        request.set_job_id(job);
        status = stub->CancelJob(&context, request, &record);
        break;
      }
      case kKinds:
        break;
    }
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (status.ok()) {
      ks.ok_ms.push_back(ms);
      int64_t since = shared.outage_since_ns.load();
      const int64_t sent = std::chrono::nanoseconds(start - t0).count();
      if (since >= 0 && sent > since && shared.outage_since_ns.compare_exchange_strong(since, -1)) {
        std::lock_guard<std::mutex> lock(shared.outages_mutex);
        shared.outages.push_back(Seconds(Clock::now() - t0) - since * 1e-9);
      }
      if (kind == kSubmit) {
        shared.jobs.Saw(record, true);
        ++shared.submitted;
      } else if (kind != kList && kind != kQuery) {
        shared.jobs.Saw(record, false);
      }
    } else {
      ++ks.errors[status.error_code()];
      std::set<std::string>& said = ks.messages[status.error_code()];
      if (said.size() < 3) said.insert(status.error_message());
    }
  }
}

// ---- end of run: drain, histories --------------------------------------------------------------

// Every job (paged ListJobs); false when a call fails.
bool ListAll(v1::SearchService::Stub& stub, const std::vector<v1::JobState>& states,
             std::vector<v1::JobRecord>* jobs) {
  jobs->clear();
  std::string token;
  do {
    grpc::ClientContext context;
    SetDeadline(&context);
    v1::ListJobsRequest request;
    for (v1::JobState s : states) request.add_states(s);
    request.set_page_size(1000);
    request.set_page_token(token);
    v1::ListJobsResponse response;
    if (!stub.ListJobs(&context, request, &response).ok()) return false;
    for (const auto& job : response.jobs()) jobs->push_back(job);
    token = response.next_page_token();
  } while (!token.empty());
  return true;
}

// A job's whole history as fingerprints in index order; false when a call fails or the indices
// are not 0..n-1.
bool History(v1::SearchService::Stub& stub, const std::string& job,
             std::vector<uint64_t>* history) {
  std::map<uint64_t, uint64_t> rows;
  std::string token;
  do {
    grpc::ClientContext context;
    SetDeadline(&context);
    v1::QueryEvaluationsRequest request;
    request.set_job_id(job);
    request.set_page_size(1000);
    request.set_page_token(token);
    v1::QueryEvaluationsResponse response;
    if (!stub.QueryEvaluations(&context, request, &response).ok()) return false;
    for (const auto& row : response.rows()) rows[row.index()] = Fingerprint(row);
    token = response.next_page_token();
  } while (!token.empty());
  history->clear();
  for (const auto& [index, fingerprint] : rows) {
    if (index != history->size()) return false;
    history->push_back(fingerprint);
  }
  return true;
}

// Resumes paused jobs and waits until no job is live; false after `seconds`.
bool Drain(v1::SearchService::Stub& stub, double seconds) {
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(seconds));
  while (Clock::now() < deadline) {
    std::vector<v1::JobRecord> live;
    if (ListAll(stub, {v1::PENDING, v1::RUNNING, v1::PAUSED}, &live)) {
      if (live.empty()) return true;
      for (const auto& job : live) {
        if (job.state() != v1::PAUSED) continue;
        grpc::ClientContext context;
        SetDeadline(&context);
        v1::ResumeJobRequest request;
        request.set_job_id(job.id());
        v1::JobRecord record;
        stub.ResumeJob(&context, request, &record);
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return false;
}

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))];
}

// Each flag takes a number > 0; false on an unknown flag or a bad value.
bool ParseOptions(int argc, char** argv, Options* o) {
  std::map<std::string, double> values = {{"--seconds", o->seconds},
                                          {"--rate", o->rate},
                                          {"--clients", o->clients},
                                          {"--kill-every", o->kill_every},
                                          {"--workers", o->workers},
                                          {"--budget", static_cast<double>(o->budget)},
                                          {"--specs", o->specs},
                                          {"--max-live", o->max_live},
                                          {"--drain-seconds", o->drain_seconds}};
  for (int i = 1; i < argc; i += 2) {
    const auto flag = values.find(argv[i]);
    if (flag == values.end() || i + 1 >= argc) return false;
    char* end = nullptr;
    flag->second = std::strtod(argv[i + 1], &end);
    if (*end != '\0' || !(flag->second > 0)) return false;
  }
  o->seconds = values["--seconds"];
  o->rate = values["--rate"];
  o->clients = static_cast<int>(values["--clients"]);
  o->kill_every = values["--kill-every"];
  o->workers = static_cast<int>(values["--workers"]);
  o->budget = static_cast<uint64_t>(values["--budget"]);
  o->specs = static_cast<int>(values["--specs"]);
  o->max_live = static_cast<int>(values["--max-live"]);
  o->drain_seconds = values["--drain-seconds"];
  return o->clients >= 1 && o->workers >= 1 && o->specs >= 1 && o->max_live >= 1 && o->budget >= 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  if (!ParseOptions(argc, argv, &options)) {
    std::fprintf(stderr,
                 "usage: soak [--seconds 300] [--rate 20] [--clients 4] [--kill-every 30] "
                 "[--workers 2] [--budget 10000] [--specs 8] [--max-live 6] "
                 "[--drain-seconds 600] (every value > 0)\n");
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  std::atexit(StopChildrenAtExit);
  char dir_template[] = "/tmp/evolv-bench-soak-XXXXXX";
  const std::string dir = mkdtemp(dir_template);
  std::printf(
      "soak: %.0f s at %.0f requests/s (%d clients), kill -9 every %.0f s (evolvd and a "
      "worker in turn), %d remote workers; jobs of %llu evaluations from %d specs, at most "
      "%d live; logs in %s\n",
      options.seconds, options.rate, options.clients, options.kill_every, options.workers,
      static_cast<unsigned long long>(options.budget), options.specs, options.max_live,
      dir.c_str());
  std::fflush(stdout);

  std::filesystem::create_directories(dir + "/soak");
  Cluster cluster(dir + "/soak", options.workers);
  if (!cluster.Start()) {
    std::fprintf(stderr, "evolvd did not start; see %s/soak/evolvd.log\n", dir.c_str());
    return 2;
  }
  Shared shared;
  shared.options = &options;
  shared.grpc_port = cluster.grpc_port();

  // The load, and the kills on this thread.
  const auto t0 = Clock::now();
  std::vector<ClientStats> stats(options.clients);
  std::vector<std::thread> clients;
  for (int i = 0; i < options.clients; ++i) {
    clients.emplace_back(Client, std::ref(shared), i, t0, &stats[i]);
  }
  int evolvd_restarts = 0, worker_restarts = 0;
  std::vector<double> restart_seconds, answer_seconds;
  bool evolvd_failed = false;
  std::set<std::string> crossed_kill;  // jobs believed live when evolvd was killed
  for (int kill = 1;; ++kill) {
    const auto when = t0 + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(options.kill_every * kill));
    if (Seconds(when - t0) >= options.seconds) break;
    std::this_thread::sleep_until(when);
    if (kill % 2 == 1) {
      for (const std::string& id : shared.jobs.LiveIds()) crossed_kill.insert(id);
      const auto killed = Clock::now();
      shared.outage_since_ns = std::chrono::nanoseconds(killed - t0).count();
      const double s = cluster.CrashEvolvd();
      if (s < 0) {
        evolvd_failed = true;
        break;
      }
      restart_seconds.push_back(s);
      answer_seconds.push_back(FirstAnswerOnANewConnection(cluster.grpc_port(), killed));
      ++evolvd_restarts;
    } else {
      cluster.CrashWorker((worker_restarts) % options.workers);
      ++worker_restarts;
    }
    std::printf("  %5.0f s: %s killed and restarted; %llu jobs submitted so far\n",
                Seconds(Clock::now() - t0), kill % 2 == 1 ? "evolvd" : "a worker",
                static_cast<unsigned long long>(shared.submitted.load()));
    std::fflush(stdout);
  }
  if (evolvd_failed) shared.stop = true;
  for (std::thread& c : clients) c.join();
  const double load_seconds = Seconds(Clock::now() - t0);
  if (evolvd_failed) {
    std::fprintf(stderr, "evolvd did not start again after a kill; see %s/soak/evolvd.log\n",
                 dir.c_str());
    return 2;
  }

  // Drain, then read every job and its history.
  auto stub = Connect(cluster.grpc_port());
  const auto drain_start = Clock::now();
  const bool drained = Drain(*stub, options.drain_seconds);
  const double drain_seconds = Seconds(Clock::now() - drain_start);
  std::vector<v1::JobRecord> final_jobs;
  if (!ListAll(*stub, {}, &final_jobs)) {
    std::fprintf(stderr, "ListJobs failed after the run\n");
    return 2;
  }
  std::map<std::string, const v1::JobRecord*> by_id;
  for (const auto& job : final_jobs) by_id[job.id()] = &job;
  std::map<std::string, std::vector<uint64_t>> histories;
  uint64_t unreadable = 0;
  for (const auto& job : final_jobs) {
    if (!History(*stub, job.id(), &histories[job.id()])) ++unreadable;
  }
  const std::vector<std::string> hung = cluster.Stop();

  // The uninterrupted runs: every spec once in a fresh evolvd with local workers.
  const auto reference_start = Clock::now();
  std::map<int, std::vector<uint64_t>> reference;
  {
    bench::EvolvdProcess evolvd(EVOLVD_PATH, dir + "/reference", 2);
    auto ref = evolvd.Stub();
    std::map<std::string, int> ids;
    for (int k = 0; k < options.specs; ++k) {
      if (CacheOn(k)) continue;
      grpc::ClientContext context;
      SetDeadline(&context);
      v1::SubmitJobRequest request;
      *request.mutable_spec() = SoakSpec(k, options.budget);
      v1::JobRecord job;
      if (grpc::Status s = ref->SubmitJob(&context, request, &job); !s.ok()) {
        std::fprintf(stderr, "reference submit: %s\n", s.error_message().c_str());
        return 2;
      }
      ids[job.id()] = k;
    }
    if (!Drain(*ref, options.drain_seconds)) {
      std::fprintf(stderr, "the reference jobs did not end\n");
      return 2;
    }
    for (const auto& [id, k] : ids) {
      if (!History(*ref, id, &reference[k])) reference.erase(k);
    }
  }
  const double reference_seconds = Seconds(Clock::now() - reference_start);

  // (a) acknowledged jobs that are gone.
  uint64_t lost_jobs = 0;
  const std::vector<std::string> acknowledged = shared.jobs.Acknowledged();
  for (const std::string& id : acknowledged) {
    if (!by_id.count(id)) {
      ++lost_jobs;
      std::printf("  LOST job %s (its SubmitJob was acknowledged)\n", id.c_str());
    }
  }
  // (b) histories against the uninterrupted runs.
  std::map<v1::JobState, uint64_t> final_states;
  uint64_t mismatches = 0, compared = 0, compared_prefix = 0, cached_not_compared = 0,
           compared_across = 0;
  for (const auto& job : final_jobs) {
    ++final_states[job.state()];
    const int k = SpecIndex(job);
    const std::vector<uint64_t>& history = histories[job.id()];
    std::string why;
    const bool across = crossed_kill.count(job.id()) > 0;
    if (k >= 0 && CacheOn(k) && (job.state() == v1::SUCCEEDED || job.state() == v1::CANCELLED)) {
      ++cached_not_compared;
    } else if (k < 0 || k >= options.specs || !reference.count(k)) {
      why = "no uninterrupted run of its spec";
    } else if (job.state() == v1::SUCCEEDED) {
      ++compared;
      compared_across += across;
      const std::vector<uint64_t>& want = reference[k];
      if (history != want) {
        size_t i = 0;
        while (i < history.size() && i < want.size() && history[i] == want[i]) ++i;
        why = "history differs from the uninterrupted run at index " + std::to_string(i) + " (" +
              std::to_string(history.size()) + " rows vs " + std::to_string(want.size()) + ")";
      }
    } else if (job.state() == v1::CANCELLED) {
      ++compared_prefix;
      compared_across += across;
      const std::vector<uint64_t>& want = reference[k];
      if (history.size() > want.size() ||
          !std::equal(history.begin(), history.end(), want.begin())) {
        why = "cancelled job's history is not a prefix of the uninterrupted run";
      }
    } else {
      why = std::string("ended ") + v1::JobState_Name(job.state()) +
            (job.error().empty() ? "" : ": " + job.error());
    }
    if (!why.empty()) {
      ++mismatches;
      std::printf("  MISMATCH job %s (%s): %s\n", job.id().c_str(), job.spec().name().c_str(),
                  why.c_str());
    }
  }
  mismatches += unreadable;
  // (c) rows seen stored during the run.
  uint64_t lost_rows = 0;
  for (const auto& [where, fingerprint] : shared.seen.rows) {
    const auto it = histories.find(where.first);
    if (it == histories.end() || where.second >= it->second.size() ||
        it->second[where.second] != fingerprint) {
      if (lost_rows++ < 10) {
        std::printf("  LOST evaluation: job %s row %llu\n", where.first.c_str(),
                    static_cast<unsigned long long>(where.second));
      }
    }
  }

  // The report.
  std::printf("soak: %.0f s of load, drain %.1f s%s, reference runs %.1f s\n", load_seconds,
              drain_seconds, drained ? "" : " (TIMED OUT: jobs still live)", reference_seconds);
  std::printf("  %-16s %8s %8s %8s %8s %8s %9s %9s %9s %8s\n", "kind", "served", "unavail",
              "deadline", "ended", "other", "p50 ms", "p99 ms", "max ms", "no job");
  std::vector<double> all_ms;
  uint64_t served = 0, unavailable = 0, deadline = 0, ended = 0, other = 0;
  std::map<grpc::StatusCode, std::pair<uint64_t, std::string>> other_codes;
  std::map<grpc::StatusCode, std::set<std::string>> all_messages;
  for (int kind = 0; kind < kKinds; ++kind) {
    KindStats merged;
    for (const ClientStats& c : stats) {
      const KindStats& ks = c.kinds[kind];
      merged.ok_ms.insert(merged.ok_ms.end(), ks.ok_ms.begin(), ks.ok_ms.end());
      merged.no_target += ks.no_target;
      for (const auto& [code, n] : ks.errors) merged.errors[code] += n;
      for (const auto& [code, said] : ks.messages) {
        for (const std::string& m : said) {
          if (all_messages[code].size() < 3) all_messages[code].insert(m);
        }
      }
    }
    uint64_t u = 0, d = 0, e = 0, o = 0;
    for (const auto& [code, n] : merged.errors) {
      if (code == grpc::StatusCode::UNAVAILABLE) {
        u += n;
      } else if (code == grpc::StatusCode::DEADLINE_EXCEEDED) {
        d += n;
      } else if (code == grpc::StatusCode::FAILED_PRECONDITION &&
                 (kind == kPause || kind == kResume || kind == kCancel)) {
        e += n;
      } else {
        o += n;
        auto& slot = other_codes[code];
        slot.first += n;
        if (slot.second.empty()) slot.second = kKindNames[kind];
      }
    }
    const std::vector<double>& v = merged.ok_ms;
    std::printf("  %-16s %8zu %8llu %8llu %8llu %8llu %9.2f %9.2f %9.2f %8llu\n", kKindNames[kind],
                v.size(), static_cast<unsigned long long>(u), static_cast<unsigned long long>(d),
                static_cast<unsigned long long>(e), static_cast<unsigned long long>(o),
                Quantile(v, 0.5), Quantile(v, 0.99),
                v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()),
                static_cast<unsigned long long>(merged.no_target));
    all_ms.insert(all_ms.end(), v.begin(), v.end());
    served += v.size();
    unavailable += u;
    deadline += d;
    ended += e;
    other += o;
  }
  std::printf("  %-16s %8llu %8llu %8llu %8llu %8llu %9.2f %9.2f %9.2f\n", "all",
              static_cast<unsigned long long>(served), static_cast<unsigned long long>(unavailable),
              static_cast<unsigned long long>(deadline), static_cast<unsigned long long>(ended),
              static_cast<unsigned long long>(other), Quantile(all_ms, 0.5), Quantile(all_ms, 0.99),
              all_ms.empty() ? 0.0 : *std::max_element(all_ms.begin(), all_ms.end()));
  std::printf(
      "  (served: OK answers; unavail/deadline: UNAVAILABLE/DEADLINE_EXCEEDED, expected "
      "around restarts; ended: FAILED_PRECONDITION on a job that ended meanwhile; no job: "
      "no job in the wanted state, not sent)\n");
  for (const auto& [code, slot] : other_codes) {
    std::printf("  other errors, code %d: %llu (first in %s)\n", static_cast<int>(code),
                static_cast<unsigned long long>(slot.first), slot.second.c_str());
  }
  for (const auto& [code, said] : all_messages) {
    std::printf("  code %d said:", static_cast<int>(code));
    for (const std::string& m : said) std::printf(" [%s]", m.c_str());
    std::printf("\n");
  }
  for (const std::string& process : hung) {
    std::printf("  NOTE: %s did not exit within 30 s of SIGTERM at the end (killed with SIGKILL)\n",
                process.c_str());
  }
  const auto mean_max = [](const std::vector<double>& v) {
    double mean = 0, max = 0;
    for (double x : v) {
      mean += x / v.size();
      max = std::max(max, x);
    }
    char text[64];
    std::snprintf(text, sizeof text, "mean %.2f s, max %.2f s", mean, max);
    return std::string(text);
  };
  std::printf(
      "  restarts: evolvd %d, workers %d; from each kill of evolvd to: listening (port "
      "file) %s; an OK answer on a new connection %s; the clients' first OK answer %s\n",
      evolvd_restarts, worker_restarts, mean_max(restart_seconds).c_str(),
      mean_max(answer_seconds).c_str(), mean_max(shared.outages).c_str());
  std::printf("  jobs: %zu acknowledged, %zu in evolvd at the end (", acknowledged.size(),
              final_jobs.size());
  for (const auto& [state, n] : final_states) {
    std::printf(" %s %llu", v1::JobState_Name(state).c_str(), static_cast<unsigned long long>(n));
  }
  std::printf(
      " ); compared with the uninterrupted runs: %llu SUCCEEDED whole, %llu CANCELLED as "
      "prefixes, %llu of them live when evolvd was killed (%llu with the cache on not "
      "compared); %zu history rows seen stored during the run\n",
      static_cast<unsigned long long>(compared), static_cast<unsigned long long>(compared_prefix),
      static_cast<unsigned long long>(compared_across),
      static_cast<unsigned long long>(cached_not_compared), shared.seen.rows.size());

  bench::TargetReport report;
  report.Check({"lost acknowledged jobs", bench::Compare::kAtMost, 0, ""},
               {static_cast<double>(lost_jobs)});
  report.Check({"history mismatches", bench::Compare::kAtMost, 0, ""},
               {static_cast<double>(mismatches + (drained ? 0 : 1))});
  report.Check({"lost evaluations", bench::Compare::kAtMost, 0, ""},
               {static_cast<double>(lost_rows)});
  return report.ExitStatus();
}
