// Time from evolvd start to every job resumed, with 1,000,000 cached evaluations in the store.
//
//   build-svc/bench/service_resume [--rows 1000000] [--jobs 4]
// Fills a fresh store (kNoWal + Flush), with `jobs` RUNNING jobs that have made progress, then
// starts evolvd and reports: time to listening (port file), to the job manager answering
// (every job loaded and its coordinator spawned), and to every job's first new evaluation.
#include <cstring>
#include <map>
#include <random>

#include "bench/service_harness.h"
#include "storage/store.h"

using namespace evolv;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  uint64_t rows = 1000000;
  int jobs = 4;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--rows")) rows = std::strtoull(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--jobs")) jobs = std::atoi(argv[i + 1]);
  }
  char dir_template[] = "/tmp/evolv-bench-resume-XXXXXX";
  const std::string dir = std::string(mkdtemp(dir_template)) + "/data";

  // Jobs first: run them briefly in evolvd so they have checkpoints, then stop (they stay RUNNING).
  {
    bench::EvolvdProcess evolvd(EVOLVD_PATH, dir, 2);
    auto stub = evolvd.Stub();
    for (int j = 0; j < jobs; ++j) {
      grpc::ClientContext context;
      v1::SubmitJobRequest request;
      *request.mutable_spec() = bench::BenchSpec("resume " + std::to_string(j), 100000000, j + 1);
      v1::JobRecord job;
      stub->SubmitJob(&context, request, &job);
    }
    std::this_thread::sleep_for(std::chrono::seconds(3));
  }
  const auto fill_start = Clock::now();
  {
    StoreOptions options;
    options.durability = Durability::kNoWal;
    auto store = Store::Open(dir, options);
    if (!store.ok()) {
      std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
      return 1;
    }
    std::mt19937_64 rng(42);
    const uint64_t batch_size = 10000;
    for (uint64_t done = 0; done < rows; done += batch_size) {
      CheckpointBatch batch;
      for (uint64_t i = done; i < std::min(rows, done + batch_size); ++i) {
        CheckpointBatch::CacheRow row;
        row.key.resize(16);
        const uint64_t a = rng(), b = rng();
        std::memcpy(row.key.data(), &a, 8);
        std::memcpy(row.key.data() + 8, &b, 8);
        row.value.mutable_evaluation()->add_objectives(1e-3 * (i % 1000));
        row.value.mutable_evaluation()->add_objectives(i % 10);
        row.value.mutable_evaluation()->set_status(v1::OK);
        row.value.set_domain("numerics");
        row.value.set_job_id("jbench");
        row.value.set_repeats(1);
        batch.cache.push_back(std::move(row));
      }
      if (absl::Status s = (*store)->Commit(batch); !s.ok()) {
        std::fprintf(stderr, "%s\n", s.ToString().c_str());
        return 1;
      }
    }
    (void)(*store)->Flush();
  }
  const double fill_seconds = std::chrono::duration<double>(Clock::now() - fill_start).count();

  bench::EvolvdProcess evolvd(EVOLVD_PATH, dir, 2);
  const double listening = std::chrono::duration<double>(Clock::now() - evolvd.started()).count();
  auto stub = evolvd.Stub();
  v1::ListJobsResponse first;
  {
    grpc::ClientContext context;
    stub->ListJobs(&context, v1::ListJobsRequest(), &first);
  }
  const double loaded = std::chrono::duration<double>(Clock::now() - evolvd.started()).count();
  std::map<std::string, uint64_t> start_evals;
  for (const auto& job : first.jobs()) start_evals[job.id()] = job.progress().evaluations();
  double all_progressing = 0;
  for (;;) {
    grpc::ClientContext context;
    v1::ListJobsResponse now;
    stub->ListJobs(&context, v1::ListJobsRequest(), &now);
    int moving = 0;
    for (const auto& job : now.jobs()) {
      if (job.state() == v1::RUNNING && job.progress().evaluations() > start_evals[job.id()]) {
        ++moving;
      }
    }
    if (moving == now.jobs_size()) {
      all_progressing = std::chrono::duration<double>(Clock::now() - evolvd.started()).count();
      break;
    }
    if (std::chrono::duration<double>(Clock::now() - evolvd.started()).count() > 300) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  std::printf("service_resume: %llu cached evaluations (filled in %.1f s), %d RUNNING jobs\n",
              static_cast<unsigned long long>(rows), fill_seconds, first.jobs_size());
  std::printf("  start -> gRPC listening          %.3f s\n", listening);
  std::printf("  start -> all jobs loaded/resumed %.3f s\n", loaded);
  std::printf("  start -> every job's next result %.3f s\n", all_progressing);
  return 0;
}
