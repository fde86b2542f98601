// Resident memory of evolvd and of an evolv-worker, in the states a long-running service sees:
//   1. evolvd just started on an empty store;
//   2. after 100 small jobs ran to the end (live), and after a restart with those 100 finished
//      jobs idle in the store;
//   3. with 4 RUNNING jobs of `--rows` (1,000,000) history rows each: the jobs run briefly in
//      evolvd, evolvd stops, the rows are written into the store directly (copies of the jobs'
//      own rows at indices far beyond what they reach here), evolvd starts again and the jobs
//      resume; RSS is sampled every 0.5 s for `--seconds` (20) and its maximum reported, with
//      the same 4 jobs before the rows were added for comparison;
//   4. a remote evolv-worker process serving those jobs (its RSS at the end).
// RSS is VmRSS from /proc; "peak" is VmHWM. Figures are reported, no targets: a history that
// grows must not grow evolvd (state 3 against its comparison), and 100 finished jobs must cost
// little (state 2).
//
//   build/bench/service_memory [--rows 1000000] [--seconds 20]
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "bench/service_harness.h"
#include "storage/store.h"
#include "tests/support/subprocess.h"

using namespace evolv;
using Clock = std::chrono::steady_clock;

namespace {

std::unique_ptr<v1::SearchService::Stub> Stub(const bench::EvolvdProcess& evolvd) {
  return evolvd.Stub();
}

v1::ListJobsResponse List(v1::SearchService::Stub& stub) {
  grpc::ClientContext context;
  v1::ListJobsResponse jobs;
  stub.ListJobs(&context, v1::ListJobsRequest(), &jobs);
  return jobs;
}

// Submits `n` jobs of `budget` evaluations; returns their ids.
std::vector<std::string> Submit(v1::SearchService::Stub& stub, int n, uint64_t budget,
                                const std::string& name) {
  std::vector<std::string> ids;
  for (int j = 0; j < n; ++j) {
    grpc::ClientContext context;
    v1::SubmitJobRequest request;
    *request.mutable_spec() = bench::BenchSpec(name + " " + std::to_string(j), budget, j + 1);
    v1::JobRecord job;
    if (stub.SubmitJob(&context, request, &job).ok()) ids.push_back(job.id());
  }
  return ids;
}

// Waits until no job is RUNNING (at most `limit`); false on time-out.
bool AwaitAllEnded(v1::SearchService::Stub& stub, std::chrono::seconds limit) {
  const auto deadline = Clock::now() + limit;
  while (Clock::now() < deadline) {
    bool running = false;
    const v1::ListJobsResponse jobs = List(stub);
    for (const auto& job : jobs.jobs()) running |= job.state() == v1::RUNNING;
    if (!running) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

// The largest RSS of `pid` sampled every 0.5 s for `seconds`.
double MaxRssOver(pid_t pid, double seconds) {
  double most = 0;
  const auto until = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < until) {
    most = std::max(most, bench::ReadRss(pid).now_mib);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return most;
}

void Print(const char* what, const bench::Rss& rss) {
  std::printf("  %-58s RSS %7.1f MiB (peak %7.1f MiB)\n", what, rss.now_mib, rss.peak_mib);
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t rows = 1000000;
  double seconds = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--rows")) rows = std::strtoull(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
  }
  if (rows > 100000000 || seconds <= 0 || seconds > 3600) {
    std::fprintf(stderr, "usage: service_memory [--rows 0..100000000] [--seconds (0, 3600]]\n");
    return 2;
  }
  char dir_template[] = "/tmp/evolv-bench-memory-XXXXXX";
  const std::string root = mkdtemp(dir_template);
  std::printf("service_memory: evolvd with 2 local workers; %llu history rows per running job\n",
              static_cast<unsigned long long>(rows));

  // 1 and 2: 100 small jobs.
  const std::string finished_dir = root + "/finished";
  {
    bench::EvolvdProcess evolvd(EVOLVD_PATH, finished_dir, 2);
    std::this_thread::sleep_for(std::chrono::seconds(1));
    Print("empty store, just started", bench::ReadRss(evolvd.pid()));
    auto stub = Stub(evolvd);
    const auto ids = Submit(*stub, 100, 300, "small");
    if (ids.size() != 100 || !AwaitAllEnded(*stub, std::chrono::seconds(900))) {
      std::fprintf(stderr, "the 100 small jobs did not all run to the end\n");
      return 1;
    }
    Print("100 jobs of 300 evaluations run to the end (same process)",
          bench::ReadRss(evolvd.pid()));
  }
  {
    bench::EvolvdProcess evolvd(EVOLVD_PATH, finished_dir, 2);
    auto stub = Stub(evolvd);
    const int listed = List(*stub).jobs_size();
    std::this_thread::sleep_for(std::chrono::seconds(2));
    const std::string what =
        "restarted with " + std::to_string(listed) + " finished jobs in the store, idle";
    Print(what.c_str(), bench::ReadRss(evolvd.pid()));
  }

  // 3 and 4: 4 running jobs, then with `rows` history rows each; a remote worker.
  const std::string running_dir = root + "/running";
  const std::string secret = root + "/secret";
  std::ofstream(secret) << "service_memory bench secret\n";
  const std::vector<std::string> cluster = {"--cluster-port", "0", "--cluster-secret-file", secret};
  std::vector<std::string> ids;
  double before_rows = 0;
  {
    bench::EvolvdProcess evolvd(EVOLVD_PATH, running_dir, 2, std::chrono::seconds(600), cluster);
    auto stub = Stub(evolvd);
    ids = Submit(*stub, 4, 100000000, "long");
    before_rows = MaxRssOver(evolvd.pid(), seconds);
    char what[128];
    std::snprintf(what, sizeof(what), "4 running jobs, their own history (max over %.0f s)",
                  seconds);
    Print(what, {before_rows, bench::ReadRss(evolvd.pid()).peak_mib});
  }
  if (ids.size() != 4) {
    std::fprintf(stderr, "the 4 long jobs were not all accepted\n");
    return 1;
  }
  const auto fill_start = Clock::now();
  {
    StoreOptions options;
    options.durability = Durability::kNoWal;
    auto store = Store::Open(running_dir, options);
    if (!store.ok()) {
      std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
      return 1;
    }
    for (const std::string& id : ids) {
      auto first = (*store)->ReadHistory(id, 0, 1);
      if (!first.ok() || first->empty()) {
        std::fprintf(stderr, "job %s has no history row to copy\n", id.c_str());
        return 1;
      }
      constexpr uint64_t kFarIndex = 1000000000000ULL;  // beyond what the jobs reach here
      constexpr uint64_t kBatch = 10000;
      for (uint64_t done = 0; done < rows; done += kBatch) {
        CheckpointBatch batch;
        for (uint64_t i = done; i < std::min(rows, done + kBatch); ++i) {
          CheckpointBatch::HistoryRow row{id, first->front()};
          row.entry.set_index(kFarIndex + i);
          batch.history.push_back(std::move(row));
        }
        if (absl::Status s = (*store)->Commit(batch); !s.ok()) {
          std::fprintf(stderr, "%s\n", s.ToString().c_str());
          return 1;
        }
      }
    }
    (void)(*store)->Flush();
  }
  std::printf("  (%llu history rows added to each job in %.1f s)\n",
              static_cast<unsigned long long>(rows),
              std::chrono::duration<double>(Clock::now() - fill_start).count());
  {
    bench::EvolvdProcess evolvd(EVOLVD_PATH, running_dir, 2, std::chrono::seconds(600), cluster);
    Subprocess worker(
        {EVOLV_WORKER_PATH, "--connect", "127.0.0.1:" + std::to_string(evolvd.cluster_port()),
         "--secret-file", secret},
        root + "/worker.out", root + "/worker.err");
    const double with_rows = MaxRssOver(evolvd.pid(), seconds);
    char what[128];
    std::snprintf(what, sizeof(what), "4 running jobs of %llu+ history rows (max over %.0f s)",
                  static_cast<unsigned long long>(rows), seconds);
    Print(what, {with_rows, bench::ReadRss(evolvd.pid()).peak_mib});
    Print("an evolv-worker (1 slot) serving them, at the end", bench::ReadRss(worker.pid()));
    std::printf("  evolvd with the rows / without: %.2fx\n",
                before_rows > 0 ? with_rows / before_rows : 0.0);
    worker.Signal(SIGTERM);
    worker.Wait(std::chrono::seconds(60));
  }
  std::filesystem::remove_all(root);
  return 0;
}
