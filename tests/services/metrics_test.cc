#include "services/evolvd/metrics.h"

#include <gtest/gtest.h>

#include <sstream>

#include "actors/dispatcher.h"

namespace evolv {
namespace {

// The value on the exposition line that starts with `series` followed by a space; "" if none.
std::string Value(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(series + " ", 0) == 0) return line.substr(series.size() + 1);
  }
  return "";
}

v1::JobRecord Job(const std::string& id, v1::JobState state, uint64_t evaluations, uint64_t hits,
                  uint64_t misses, double saved) {
  v1::JobRecord job;
  job.set_id(id);
  job.set_state(state);
  job.mutable_progress()->set_evaluations(evaluations);
  job.mutable_progress()->mutable_cache()->set_hits(hits);
  job.mutable_progress()->mutable_cache()->set_misses(misses);
  job.mutable_progress()->mutable_cache()->set_eval_seconds_saved(saved);
  return job;
}

TEST(ServiceMetricsTest, JobGaugesAndCountersComeFromEachJobsProgressCounters) {
  ServiceMetrics metrics;
  MetricsSources sources;
  sources.jobs = {Job("a", v1::RUNNING, 120, 20, 100, 1.5),
                  Job("b", v1::SUCCEEDED, 200, 50, 150, 2.0), Job("c", v1::SUCCEEDED, 10, 0, 10, 0),
                  Job("d", v1::FAILED_STATE, 0, 0, 0, 0)};
  const std::string text = metrics.Render(sources);
  EXPECT_EQ(Value(text, "evolv_jobs{state=\"RUNNING\"}"), "1");
  // States by the names people read: FAILED, never the enum's FAILED_STATE.
  EXPECT_EQ(Value(text, "evolv_jobs{state=\"FAILED\"}"), "1");
  EXPECT_EQ(text.find("_STATE"), std::string::npos) << text;
  EXPECT_EQ(Value(text, "evolv_jobs{state=\"SUCCEEDED\"}"), "2");
  EXPECT_EQ(Value(text, "evolv_jobs{state=\"PAUSED\"}"), "0");
  EXPECT_EQ(Value(text, "evolv_evaluations_total"), "330");
  EXPECT_EQ(Value(text, "evolv_cache_hits_total"), "70");
  EXPECT_EQ(Value(text, "evolv_cache_misses_total"), "260");
  EXPECT_EQ(Value(text, "evolv_cache_eval_seconds_saved_total"), "3.5");

  // The counters move with the jobs' progress, scrape by scrape.
  (*sources.jobs)[0].mutable_progress()->set_evaluations(180);
  EXPECT_EQ(Value(metrics.Render(sources), "evolv_evaluations_total"), "390");
}

TEST(ServiceMetricsTest, HistogramCountsObservedEvaluationsInCumulativeBuckets) {
  ServiceMetrics metrics;
  metrics.ObserveEvaluation(0.003);
  metrics.ObserveEvaluation(0.2);
  metrics.ObserveEvaluation(0.2);
  metrics.ObserveEvaluation(30);
  const std::string text = metrics.Render(MetricsSources());
  EXPECT_EQ(Value(text, "evolv_evaluation_seconds_bucket{le=\"0.001\"}"), "0");
  EXPECT_EQ(Value(text, "evolv_evaluation_seconds_bucket{le=\"0.005\"}"), "1");
  EXPECT_EQ(Value(text, "evolv_evaluation_seconds_bucket{le=\"0.1\"}"), "1");
  EXPECT_EQ(Value(text, "evolv_evaluation_seconds_bucket{le=\"0.25\"}"), "3");
  EXPECT_EQ(Value(text, "evolv_evaluation_seconds_bucket{le=\"10\"}"), "3");
  EXPECT_EQ(Value(text, "evolv_evaluation_seconds_bucket{le=\"+Inf\"}"), "4");
  EXPECT_EQ(Value(text, "evolv_evaluation_seconds_count"), "4");
  EXPECT_EQ(Value(text, "evolv_evaluation_seconds_sum"), "30.403");
}

TEST(ServiceMetricsTest, WorkerGaugesComeFromTheDispatcherAndAreLeftOutWhenItIsSilent) {
  ServiceMetrics metrics;
  MetricsSources sources;
  v1::WorkerStatus w1, w2;
  w1.mutable_info()->set_slots(4);
  w1.set_busy(3);
  w2.mutable_info()->set_slots(2);
  sources.workers = {w1, w2};
  sources.queue_depth = 7;
  std::string text = metrics.Render(sources);
  EXPECT_EQ(Value(text, "evolv_workers"), "2");
  EXPECT_EQ(Value(text, "evolv_worker_slots"), "6");
  EXPECT_EQ(Value(text, "evolv_busy_slots"), "3");
  EXPECT_EQ(Value(text, "evolv_queue_depth"), "7");

  text = metrics.Render(MetricsSources());  // neither the manager nor the dispatcher answered
  EXPECT_EQ(text.find("evolv_workers"), std::string::npos);
  EXPECT_EQ(text.find("evolv_queue_depth"), std::string::npos);
  EXPECT_EQ(text.find("evolv_jobs"), std::string::npos);
  EXPECT_NE(text.find("evolv_evaluation_seconds_count 0"), std::string::npos);
}

// A stand-in worker: answers every evaluation with `answer`.
worker_actor::behavior_type FakeWorker(worker_actor::pointer, v1::Evaluation answer) {
  return {
      [answer](evaluate_atom, const std::string&) -> std::string {
        return answer.SerializeAsString();
      },
      [answer](evaluate_batch_atom, const std::string&,
               const std::vector<std::string>& tasks) -> std::vector<std::string> {
        return std::vector<std::string>(tasks.size(), answer.SerializeAsString());
      },
  };
}

std::string Evaluate(caf::actor_system& system, const dispatcher_actor& dispatcher) {
  caf::scoped_actor self{system};
  std::string answer;
  v1::EvalRequest request;
  request.set_job_id("j");
  self->request(dispatcher, std::chrono::seconds(10), evaluate_atom::value,
                request.SerializeAsString())
      .receive([&](const std::string& bytes) { answer = bytes; },
               [&](caf::error& error) { ADD_FAILURE() << system.render(error); });
  return answer;
}

// evolvd hands the dispatcher ObserveEvaluation as DispatcherOptions::observe.
TEST(EvaluationMetricsTest, TheDispatcherRecordsWhatWorkersRanAndNothingElse) {
  caf::actor_system_config config;
  caf::actor_system system{config};
  auto metrics = std::make_shared<ServiceMetrics>();
  DispatcherOptions options;
  options.observe = [metrics](double seconds) { metrics->ObserveEvaluation(seconds); };
  auto dispatcher = SpawnDispatcher(system, options);

  v1::Evaluation ran;
  ran.set_status(v1::OK);
  ran.set_eval_seconds(0.02);
  ran.set_worker("local-0");
  // Fields the dispatcher skips on its way to the time: before it and after it.
  ran.add_objectives(1.5);
  ran.add_objectives(-2);
  (*ran.mutable_metrics())["error"] = 3;
  ran.mutable_refined()->mutable_value()->set_type_url("type.googleapis.com/x");
  auto worker = system.spawn(FakeWorker, ran);
  v1::WorkerInfo info;
  info.set_id("local-0");
  info.set_slots(1);
  caf::anon_send(dispatcher, join_atom::value, caf::actor_cast<caf::actor>(worker),
                 info.SerializeAsString());
  EXPECT_EQ(Evaluate(system, dispatcher), ran.SerializeAsString());
  EXPECT_EQ(Evaluate(system, dispatcher), ran.SerializeAsString());

  // A failure the dispatcher answers itself (no worker ran it) is answered, not timed.
  options.max_queued = 0;
  auto refusing = SpawnDispatcher(system, options);
  const std::string refused = Evaluate(system, refusing);
  v1::Evaluation evaluation;
  ASSERT_TRUE(evaluation.ParseFromString(refused));
  EXPECT_EQ(evaluation.status(), v1::FAILED);
  EXPECT_NE(evaluation.error().find("queue full"), std::string::npos);

  const std::string text = metrics->Render(MetricsSources());
  EXPECT_EQ(Value(text, "evolv_evaluation_seconds_count"), "2");
  EXPECT_EQ(Value(text, "evolv_evaluation_seconds_bucket{le=\"0.025\"}"), "2");
  EXPECT_EQ(Value(text, "evolv_evaluation_seconds_bucket{le=\"0.01\"}"), "0");
  for (auto& d : {dispatcher, refusing}) caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(worker, caf::exit_reason::user_shutdown);
}

}  // namespace
}  // namespace evolv
