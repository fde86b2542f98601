// The dispatcher with a real CAF system and real worker actors that record the messages they
// get: short evaluations go to a worker in batches once their time is known, long ones alone; a
// worker that offers no batches gets one evaluation per message; a failed batch is retried one
// by one without counting an attempt against its tasks; every request gets its own result, and
// tasks submitted together come back to their submitter in batches.
#include "actors/dispatcher.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "evolv/v1/cluster.pb.h"

namespace evolv {
namespace {

// What a recording worker was sent: the number of evaluations in each message.
struct MessageLog {
  std::mutex mutex;
  std::vector<size_t> sizes;
  bool batch_failed = false;

  void Add(size_t size) {
    std::lock_guard<std::mutex> lock(mutex);
    sizes.push_back(size);
  }
  std::vector<size_t> Sizes() {
    std::lock_guard<std::mutex> lock(mutex);
    return sizes;
  }
};

struct WorkerSetup {
  double eval_seconds = 1e-4;     // what each evaluation reports it took
  bool fail_first_batch = false;  // answer the first batch with an error
  std::string name = "recording";  // the worker each evaluation names
};

// Each message takes this long to answer, whatever its evaluations report, so that requests
// sent together queue up at the dispatcher behind the first.
constexpr auto kMessageTime = std::chrono::milliseconds(20);

// Answers each request with an OK evaluation whose first objective is the request's index.
std::string Answer(const std::string& request_bytes, double eval_seconds,
                   const std::string& worker = "recording") {
  v1::EvalRequest request;
  v1::Evaluation evaluation;
  evaluation.set_status(request.ParseFromString(request_bytes) ? v1::OK : v1::FAILED);
  evaluation.add_objectives(static_cast<double>(request.index()));
  evaluation.set_eval_seconds(eval_seconds);
  evaluation.set_worker(worker);
  return evaluation.SerializeAsString();
}

worker_actor::behavior_type RecordingWorker(worker_actor::pointer, std::shared_ptr<MessageLog> log,
                                            WorkerSetup setup) {
  return {
      [log, setup](evaluate_atom, const std::string& request) -> std::string {
        log->Add(1);
        std::this_thread::sleep_for(kMessageTime);
        return Answer(request, setup.eval_seconds, setup.name);
      },
      [log, setup](
          evaluate_batch_atom, const std::string& shared,
          const std::vector<std::string>& requests) -> caf::result<std::vector<std::string>> {
        log->Add(requests.size());
        std::this_thread::sleep_for(kMessageTime);
        {
          std::lock_guard<std::mutex> lock(log->mutex);
          if (setup.fail_first_batch && !log->batch_failed) {
            log->batch_failed = true;
            return caf::make_error(caf::sec::runtime_error, "the batch failed");
          }
        }
        std::vector<std::string> evaluations;
        for (const std::string& request : requests) {
          evaluations.push_back(Answer(shared + request, setup.eval_seconds, setup.name));
        }
        return evaluations;
      },
  };
}

// The fields every task of the job shares, as a coordinator sends them with (tasks).
std::string Shared() {
  v1::EvalRequest request;
  request.set_job_id("job");
  request.set_domain("toy");
  return request.SerializeAsString();
}

// A task's own fields.
std::string Own(uint64_t index) {
  v1::EvalRequest request;
  request.set_index(index);
  return request.SerializeAsString();
}

std::string Request(uint64_t index) {
  v1::EvalRequest request;
  request.set_job_id("job");
  request.set_domain("toy");
  request.set_index(index);
  return request.SerializeAsString();
}

class DispatcherTest : public ::testing::Test {
 protected:
  // Spawns the dispatcher and one recording worker offering `max_batch`.
  std::shared_ptr<MessageLog> Start(uint32_t max_batch, WorkerSetup setup,
                                    DispatcherOptions options = {}) {
    dispatcher_ = SpawnDispatcher(system_, options);
    auto log = std::make_shared<MessageLog>();
    worker_ = system_.spawn(RecordingWorker, log, setup);
    v1::WorkerInfo info;
    info.set_id("recording");
    info.set_slots(1);
    info.set_max_batch(max_batch);
    caf::anon_send(dispatcher_, join_atom::value, caf::actor_cast<caf::actor>(worker_),
                   info.SerializeAsString());
    return log;
  }

  // Sends evaluations first..first+count-1 at once and checks that each answer is its own.
  void EvaluateAll(uint64_t first, uint64_t count) {
    caf::scoped_actor self{system_};
    std::vector<decltype(self->request(dispatcher_, caf::infinite, evaluate_atom::value,
                                       std::string()))>
        pending;
    for (uint64_t i = first; i < first + count; ++i) {
      pending.push_back(
          self->request(dispatcher_, caf::infinite, evaluate_atom::value, Request(i)));
    }
    for (uint64_t i = 0; i < count; ++i) {
      pending[i].receive(
          [&](const std::string& bytes) {
            v1::Evaluation evaluation;
            ASSERT_TRUE(evaluation.ParseFromString(bytes));
            EXPECT_EQ(evaluation.status(), v1::OK) << evaluation.error();
            ASSERT_EQ(evaluation.objectives_size(), 1);
            EXPECT_EQ(evaluation.objectives(0), static_cast<double>(first + i));
          },
          [&](caf::error& error) { ADD_FAILURE() << system_.render(error); });
    }
  }

  // Submits tasks first..first+count-1 in one (tasks) message, as a coordinator does, and
  // checks that each token gets its own answer once; returns the (results) messages received.
  size_t SubmitAll(uint64_t first, uint64_t count) {
    caf::scoped_actor self{system_};
    std::vector<uint64_t> tokens;
    std::vector<std::string> own;
    for (uint64_t i = first; i < first + count; ++i) {
      tokens.push_back(1000 + i);
      own.push_back(Own(i));
    }
    self->send(dispatcher_, tasks_atom::value, caf::actor_cast<caf::actor>(self),
               std::string("job"), std::string("toy"), std::string(), int32_t{0}, Shared(), tokens,
               own);
    std::vector<int> answered(count, 0);
    size_t messages = 0, received = 0;
    while (received < count) {
      bool got = false;
      self->receive(
          [&](results_atom, const std::vector<uint64_t>& ids,
              const std::vector<std::string>& evaluations) {
            got = true;
            ++messages;
            ASSERT_EQ(ids.size(), evaluations.size());
            for (size_t k = 0; k < ids.size(); ++k) {
              ASSERT_GE(ids[k], 1000 + first);
              ASSERT_LT(ids[k], 1000 + first + count);
              ++answered[ids[k] - 1000 - first];
              v1::Evaluation evaluation;
              ASSERT_TRUE(evaluation.ParseFromString(evaluations[k]));
              EXPECT_EQ(evaluation.status(), v1::OK) << evaluation.error();
              ASSERT_EQ(evaluation.objectives_size(), 1);
              EXPECT_EQ(evaluation.objectives(0), static_cast<double>(ids[k] - 1000));
              ++received;
            }
          },
          caf::after(std::chrono::seconds(30)) >> [&] { ADD_FAILURE() << "no results"; });
      if (!got) break;
    }
    for (int times : answered) EXPECT_EQ(times, 1);
    return messages;
  }

  // Spawns a recording worker named `name` that joins with `slots` slots, one task per message,
  // on CUDA device `device_name` ("" for a CPU worker); kept in workers_ and stopped at the end.
  void JoinWorker(const std::string& name, const std::string& device_name, uint32_t slots) {
    WorkerSetup setup;
    setup.name = name;
    workers_.push_back(system_.spawn(RecordingWorker, std::make_shared<MessageLog>(), setup));
    v1::WorkerInfo info;
    info.set_id(name);
    info.set_slots(slots);
    info.set_max_batch(1);
    if (!device_name.empty()) {
      info.set_device("cuda:0");
      info.set_device_name(device_name);
    }
    caf::anon_send(dispatcher_, join_atom::value, caf::actor_cast<caf::actor>(workers_.back()),
                   info.SerializeAsString());
  }

  void TearDown() override {
    for (auto& w : workers_) caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(worker_, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(dispatcher_, caf::exit_reason::user_shutdown);
  }

  caf::actor_system_config config_;
  caf::actor_system system_{config_};
  dispatcher_actor dispatcher_;
  worker_actor worker_;
  std::vector<worker_actor> workers_;
};

// A domain with a device path goes to the CUDA worker first, whichever joined first, and to the
// CPU worker while the CUDA one is busy; another domain's task goes to a free CPU worker.
TEST_F(DispatcherTest, DeviceDomainsGoToCudaWorkersFirstAndFallBackToTheOthers) {
  DispatcherOptions options;
  options.cuda_domains = {"toy"};
  dispatcher_ = SpawnDispatcher(system_, options);
  JoinWorker("cpu", "", 1);  // the CPU worker joins first
  JoinWorker("gpu", "Some GPU", 1);
  caf::scoped_actor self{system_};
  auto ran_on = [&](const std::vector<std::string>& requests) {
    std::vector<decltype(self->request(dispatcher_, caf::infinite, evaluate_atom::value,
                                       std::string()))>
        pending;
    for (const std::string& r : requests) {
      pending.push_back(self->request(dispatcher_, caf::infinite, evaluate_atom::value, r));
    }
    std::vector<std::string> names;
    for (auto& p : pending) {
      p.receive(
          [&](const std::string& bytes) {
            v1::Evaluation evaluation;
            EXPECT_TRUE(evaluation.ParseFromString(bytes));
            names.push_back(evaluation.worker());
          },
          [&](caf::error& error) { ADD_FAILURE() << system_.render(error); });
    }
    return names;
  };
  for (int i = 0; i < 3; ++i) {  // one at a time: always the CUDA worker
    EXPECT_EQ(ran_on({Request(i)}), std::vector<std::string>({"gpu"}));
  }
  std::vector<std::string> both = ran_on({Request(10), Request(11)});  // the second falls back
  std::sort(both.begin(), both.end());
  EXPECT_EQ(both, std::vector<std::string>({"cpu", "gpu"}));
  v1::EvalRequest other;
  other.set_job_id("other");
  other.set_domain("elsewhere");
  EXPECT_EQ(ran_on({other.SerializeAsString()}).size(), 1u);
}

// Tasks whose problem requires a CUDA device (a runtime measured on one GPU model) wait while
// only a CPU worker and a worker on another GPU are free, and run on the first worker on that
// device to join.
TEST_F(DispatcherTest, TasksThatRequireADeviceRunOnlyOnWorkersOnIt) {
  dispatcher_ = SpawnDispatcher(system_);
  JoinWorker("cpu", "", 2);
  JoinWorker("other-gpu", "Other GPU", 2);
  caf::scoped_actor self{system_};
  std::vector<uint64_t> tokens = {1, 2, 3};
  std::vector<std::string> own = {Own(1), Own(2), Own(3)};
  self->send(dispatcher_, tasks_atom::value, caf::actor_cast<caf::actor>(self), std::string("job"),
             std::string("toy"), std::string("Some GPU"), int32_t{0}, Shared(), tokens, own);
  // The second question is queued behind the dispatch that the tasks scheduled.
  uint64_t queued = 0;
  for (int i = 0; i < 2; ++i) {
    self->request(dispatcher_, caf::infinite, queue_atom::value)
        .receive([&](uint64_t n) { queued = n; },
                 [&](caf::error& error) { ADD_FAILURE() << system_.render(error); });
  }
  EXPECT_EQ(queued, 3u);
  JoinWorker("some-gpu", "Some GPU", 2);
  std::vector<std::string> names;
  while (names.size() < 3) {
    bool got = false;
    self->receive(
        [&](results_atom, const std::vector<uint64_t>& ids,
            const std::vector<std::string>& evaluations) {
          got = true;
          ASSERT_EQ(ids.size(), evaluations.size());
          for (const std::string& bytes : evaluations) {
            v1::Evaluation evaluation;
            ASSERT_TRUE(evaluation.ParseFromString(bytes));
            EXPECT_EQ(evaluation.status(), v1::OK) << evaluation.error();
            names.push_back(evaluation.worker());
          }
        },
        caf::after(std::chrono::seconds(30)) >> [&] { ADD_FAILURE() << "no results"; });
    if (!got) break;
  }
  EXPECT_EQ(names, std::vector<std::string>(3, "some-gpu"));
}

TEST_F(DispatcherTest, ShortEvaluationsGoInBatchesOnceTheirTimeIsKnown) {
  auto log = Start(64, WorkerSetup{1e-4, false});
  EvaluateAll(0, 1);  // the job's evaluation time is unknown until this one returns
  EXPECT_EQ(log->Sizes(), std::vector<size_t>({1}));
  EvaluateAll(1, 40);
  const std::vector<size_t> sizes = log->Sizes();
  size_t total = 0, largest = 0;
  for (size_t size : sizes) {
    total += size;
    largest = std::max(largest, size);
  }
  EXPECT_EQ(total, 41u);
  EXPECT_GT(largest, 1u);
  EXPECT_LT(sizes.size(), 41u);
}

TEST_F(DispatcherTest, TasksSubmittedTogetherRunInBatchesAndComeBackInBatches) {
  auto log = Start(64, WorkerSetup{1e-4, false});
  EXPECT_EQ(SubmitAll(0, 1), 1u);  // the job's evaluation time is unknown until this one returns
  const size_t messages = SubmitAll(1, 40);
  const std::vector<size_t> sizes = log->Sizes();
  EXPECT_EQ(sizes.size(), messages + 1);  // one (results) per message the worker answered
  EXPECT_LT(messages, 40u);
  size_t total = 0;
  for (size_t size : sizes) total += size;
  EXPECT_EQ(total, 41u);
}

TEST_F(DispatcherTest, ABatchHoldsAboutBatchSecondsOfWorkAtMost) {
  DispatcherOptions options;
  options.batch_seconds = 0.01;
  auto log = Start(64, WorkerSetup{0.004, false}, options);  // 2 fit in 10 ms
  EvaluateAll(0, 1);
  EvaluateAll(1, 20);
  for (size_t size : log->Sizes()) EXPECT_LE(size, 2u);
}

TEST_F(DispatcherTest, LongEvaluationsGoOneByOne) {
  auto log = Start(64, WorkerSetup{1.0, false});
  EvaluateAll(0, 1);
  EvaluateAll(1, 10);
  EXPECT_EQ(log->Sizes(), std::vector<size_t>(11, 1));
}

TEST_F(DispatcherTest, AWorkerThatOffersNoBatchesGetsOneEvaluationPerMessage) {
  auto log = Start(0, WorkerSetup{1e-4, false});
  EvaluateAll(0, 1);
  EvaluateAll(1, 20);
  EXPECT_EQ(log->Sizes(), std::vector<size_t>(21, 1));
}

TEST_F(DispatcherTest, AFailedBatchIsRetriedOneByOneWithoutCountingAnAttempt) {
  DispatcherOptions options;
  options.max_attempts = 1;  // a counted attempt would fail the task at once
  auto log = Start(64, WorkerSetup{1e-4, true}, options);
  SubmitAll(0, 1);
  SubmitAll(1, 10);  // in one message, so the first batch holds all 10; every answer OK
  const std::vector<size_t> sizes = log->Sizes();
  ASSERT_GE(sizes.size(), 2u);
  EXPECT_EQ(sizes[1], 10u);  // the batch that failed
  size_t after = 0;
  for (size_t k = 2; k < sizes.size(); ++k) {
    EXPECT_EQ(sizes[k], 1u);
    after += sizes[k];
  }
  EXPECT_EQ(after, 10u);
}

}  // namespace
}  // namespace evolv
