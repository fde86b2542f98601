#include "services/evolvd/metrics.h"

#include <gtest/gtest.h>

#include <sstream>

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

// A stand-in dispatcher: answers every evaluation with `answer`.
dispatcher_actor::behavior_type FakeDispatcher(dispatcher_actor::pointer, v1::Evaluation answer) {
  return {
      [](join_atom, const caf::actor&, const std::string&) {},
      [](heartbeat_atom, const caf::actor&) {},
      [answer](evaluate_atom, const std::string&) -> std::string {
        return answer.SerializeAsString();
      },
      [](workers_atom) -> std::vector<std::string> { return {"w"}; },
      [](queue_atom) -> uint64_t { return 5; },
      [](tick_atom) {},
      [](dispatch_atom) {},
  };
}

std::string Evaluate(caf::actor_system& system, const dispatcher_actor& meter) {
  caf::scoped_actor self{system};
  std::string answer;
  self->request(meter, std::chrono::seconds(10), evaluate_atom::value, std::string("request"))
      .receive([&](const std::string& bytes) { answer = bytes; },
               [&](caf::error& error) { ADD_FAILURE() << system.render(error); });
  return answer;
}

TEST(EvaluationMeterTest, RecordsWhatWorkersRanAndPassesEveryAnswerThrough) {
  caf::actor_system_config config;
  caf::actor_system system{config};
  auto metrics = std::make_shared<ServiceMetrics>();

  v1::Evaluation ran;
  ran.set_status(v1::OK);
  ran.set_eval_seconds(0.02);
  ran.set_worker("local-0");
  auto upstream = system.spawn(FakeDispatcher, ran);
  auto meter = SpawnEvaluationMeter(system, upstream, metrics);
  EXPECT_EQ(Evaluate(system, meter), ran.SerializeAsString());
  EXPECT_EQ(Evaluate(system, meter), ran.SerializeAsString());

  // A failure the dispatcher answers itself (no worker ran it) is passed on, not timed.
  v1::Evaluation refused;
  refused.set_status(v1::FAILED);
  refused.set_error("dispatcher queue full for job j");
  auto refusing = system.spawn(FakeDispatcher, refused);
  auto refusing_meter = SpawnEvaluationMeter(system, refusing, metrics);
  EXPECT_EQ(Evaluate(system, refusing_meter), refused.SerializeAsString());

  const std::string text = metrics->Render(MetricsSources());
  EXPECT_EQ(Value(text, "evolv_evaluation_seconds_count"), "2");
  EXPECT_EQ(Value(text, "evolv_evaluation_seconds_bucket{le=\"0.025\"}"), "2");
  EXPECT_EQ(Value(text, "evolv_evaluation_seconds_bucket{le=\"0.01\"}"), "0");

  // Questions other than evaluate reach the dispatcher unchanged.
  caf::scoped_actor self{system};
  self->request(meter, std::chrono::seconds(10), queue_atom::value)
      .receive([](uint64_t queued) { EXPECT_EQ(queued, 5u); },
               [&](caf::error& error) { ADD_FAILURE() << system.render(error); });

  // The meter goes when its dispatcher goes.
  for (auto& d : {upstream, refusing}) caf::anon_send_exit(d, caf::exit_reason::user_shutdown);
}

}  // namespace
}  // namespace evolv
