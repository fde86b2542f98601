// GetJob/ListJobs latency under a steady 200 requests/s from this (second) process while 4 jobs
// run in evolvd, and the jobs' evaluation throughput with and without that load.
//
//   build-svc/bench/service_latency [--rate 200] [--seconds 10] [--workers 2]
// Prints p50/p90/p99/max latency and evaluations/s; not a Google Benchmark fixture because the
// quantity measured is an open-loop rate, not a loop time.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <numeric>

#include "bench/service_harness.h"

using namespace evolv;
using Clock = std::chrono::steady_clock;

namespace {

uint64_t TotalEvaluations(v1::SearchService::Stub& stub) {
  grpc::ClientContext context;
  v1::ListJobsResponse response;
  stub.ListJobs(&context, v1::ListJobsRequest(), &response);
  uint64_t total = 0;
  for (const auto& job : response.jobs()) total += job.progress().evaluations();
  return total;
}

double Throughput(v1::SearchService::Stub& stub, double seconds) {
  const uint64_t before = TotalEvaluations(stub);
  const auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  const uint64_t after = TotalEvaluations(stub);
  return (after - before) / std::chrono::duration<double>(Clock::now() - t0).count();
}

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * v.size()))];
}

}  // namespace

int main(int argc, char** argv) {
  double rate = 200, seconds = 10;
  int workers = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--rate")) rate = std::atof(argv[i + 1]);
    if (!std::strcmp(argv[i], "--seconds")) seconds = std::atof(argv[i + 1]);
    if (!std::strcmp(argv[i], "--workers")) workers = std::atoi(argv[i + 1]);
  }
  char dir_template[] = "/tmp/evolv-bench-latency-XXXXXX";
  const std::string dir = std::string(mkdtemp(dir_template)) + "/data";
  bench::EvolvdProcess evolvd(EVOLVD_PATH, dir, workers);
  auto stub = evolvd.Stub();
  std::vector<std::string> ids;
  for (int j = 0; j < 4; ++j) {
    grpc::ClientContext context;
    v1::SubmitJobRequest request;
    *request.mutable_spec() = bench::BenchSpec("bench " + std::to_string(j), 100000000, j + 1);
    v1::JobRecord job;
    grpc::Status status = stub->SubmitJob(&context, request, &job);
    if (!status.ok()) {
      std::fprintf(stderr, "submit: %s\n", status.error_message().c_str());
      return 1;
    }
    ids.push_back(job.id());
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));  // warm up
  const double idle = Throughput(*stub, seconds);

  // Open loop: request k is sent at t0 + k / rate, whatever the earlier ones took.
  std::vector<double> get_ms, list_ms;
  uint64_t failures = 0;
  const uint64_t before = TotalEvaluations(*stub);
  const auto t0 = Clock::now();
  const auto period = std::chrono::duration<double>(1.0 / rate);
  for (uint64_t k = 0;; ++k) {
    const auto when = t0 + std::chrono::duration_cast<Clock::duration>(period * k);
    if (when - t0 > std::chrono::duration<double>(seconds)) break;
    std::this_thread::sleep_until(when);
    grpc::ClientContext context;
    grpc::Status status;
    const auto start = Clock::now();
    if (k % 2 == 0) {
      v1::GetJobRequest request;
      request.set_job_id(ids[k / 2 % ids.size()]);
      v1::JobRecord job;
      status = stub->GetJob(&context, request, &job);
      get_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    } else {
      v1::ListJobsResponse response;
      status = stub->ListJobs(&context, v1::ListJobsRequest(), &response);
      list_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    }
    if (!status.ok()) ++failures;
  }
  const double loaded_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  const double loaded = (TotalEvaluations(*stub) - before) / loaded_seconds;
  std::vector<double> all = get_ms;
  all.insert(all.end(), list_ms.begin(), list_ms.end());

  std::printf(
      "service_latency: 4 jobs, %d workers, %.0f requests/s for %.0f s (%zu requests, "
      "%llu failed)\n",
      workers, rate, seconds, all.size(), static_cast<unsigned long long>(failures));
  auto line = [](const char* name, const std::vector<double>& v) {
    std::printf("  %-8s p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  max %.3f ms\n", name,
                Quantile(v, 0.5), Quantile(v, 0.9), Quantile(v, 0.99),
                v.empty() ? 0 : *std::max_element(v.begin(), v.end()));
  };
  line("GetJob", get_ms);
  line("ListJobs", list_ms);
  line("all", all);
  std::printf("  throughput: %.1f evaluations/s without load, %.1f with load (%+.1f%%)\n", idle,
              loaded, idle > 0 ? 100.0 * (loaded - idle) / idle : 0.0);
  return Quantile(all, 0.99) < 20.0 ? 0 : 3;
}
