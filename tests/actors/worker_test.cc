#include "actors/worker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <sstream>
#include <vector>

#include "search/functional_hash.h"
#include "spdlog/sinks/ostream_sink.h"
#include "spdlog/spdlog.h"
#include "tests/support/toy_problem.h"

namespace evolv {
namespace {

// The toy problem, counting the evaluations it runs and keeping the last one's CUDA device.
class CountingToy : public testing::ToyProblem {
 public:
  CountingToy(int dims, std::atomic<int>* evaluations, std::atomic<int>* cuda_device)
      : ToyProblem(dims, 0, 0), evaluations_(evaluations), cuda_device_(cuda_device) {}
  v1::Evaluation Evaluate(const v1::Candidate& c, const EvalContext& context) const override {
    ++*evaluations_;
    *cuda_device_ = context.cuda_device;
    return ToyProblem::Evaluate(c, context);
  }
  std::vector<v1::Evaluation> EvaluateBatch(
      const std::vector<const v1::Candidate*>& candidates,
      const std::vector<EvalContext>& contexts) const override {
    batch_sizes_->push_back(candidates.size());
    return Problem::EvaluateBatch(candidates, contexts);
  }
  std::vector<size_t>* batch_sizes_ = nullptr;

 private:
  std::atomic<int>* evaluations_;
  std::atomic<int>* cuda_device_;
};

class EvaluatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(registry_
                    .Register<test::ToySpec>(
                        "toy",
                        [this](const test::ToySpec& s) -> absl::StatusOr<std::unique_ptr<Problem>> {
                          auto toy =
                              std::make_unique<CountingToy>(s.dims(), &evaluations_, &cuda_device_);
                          toy->batch_sizes_ = &batch_sizes_;
                          return toy;
                        },
                        Spec(2))
                    .ok());
  }

  static test::ToySpec Spec(int dims) {
    test::ToySpec spec;
    spec.set_dims(dims);
    return spec;
  }

  // A request of job `job_id` for a 3-dimensional toy problem, carrying the fingerprint and
  // evaluator version of the problem the coordinator built.
  static v1::EvalRequest Request(const std::string& job_id, const Problem& coordinators) {
    v1::EvalRequest request;
    request.set_job_id(job_id);
    request.set_domain(coordinators.Domain());
    request.mutable_spec()->mutable_problem()->PackFrom(Spec(3));
    test::ToyVector vector;
    for (double x : {1.0, 2.0, 3.0}) vector.add_x(x);
    *request.mutable_candidate() = PackCandidate(vector);
    request.set_problem_fingerprint(ProblemFingerprint(coordinators));
    request.set_evaluator_version(coordinators.EvaluatorVersion());
    return request;
  }

  // The toy problem of another build: same domain and spec, another evaluator version.
  class OtherBuildToy : public testing::ToyProblem {
   public:
    OtherBuildToy() : ToyProblem(3, 0, 0) {}
    std::string EvaluatorVersion() const override { return "toy/0"; }
  };

  std::atomic<int> evaluations_{0};
  std::atomic<int> cuda_device_{-2};
  std::vector<size_t> batch_sizes_;  // of the EvaluateBatch calls
  ProblemRegistry registry_;
};

TEST_F(EvaluatorTest, EvaluatesWhenTheFingerprintMatches) {
  Evaluator evaluator("w-0", registry_);
  const v1::Evaluation evaluation = evaluator.Run(Request("j", testing::ToyProblem(3, 0, 0)));
  EXPECT_EQ(evaluation.status(), v1::OK) << evaluation.error();
  ASSERT_EQ(evaluation.objectives_size(), 2);
  EXPECT_DOUBLE_EQ(evaluation.objectives(0), 0 + 1 + 4);  // sum (x - 1)^2
  EXPECT_EQ(evaluation.worker(), "w-0");
  EXPECT_EQ(evaluation.device(), "cpu");
  EXPECT_EQ(cuda_device_, -1);
  EXPECT_EQ(evaluations_, 1);
}

// A worker on a CUDA device hands the problem its index and names the device in each evaluation.
TEST_F(EvaluatorTest, AWorkerOnADeviceTellsTheProblemAndNamesItInEachEvaluation) {
  Evaluator evaluator("w-1", registry_, false, WorkerDevice{2, "cuda:2 Some GPU"});
  const v1::Evaluation evaluation = evaluator.Run(Request("j", testing::ToyProblem(3, 0, 0)));
  EXPECT_EQ(evaluation.status(), v1::OK) << evaluation.error();
  EXPECT_EQ(evaluation.device(), "cuda:2 Some GPU");
  EXPECT_EQ(cuda_device_, 2);
}

// A worker on a device evaluates a message's tasks in one EvaluateBatch call, each as Run would,
// timed as a share of the batch; a mismatched problem refuses them all without evaluating.
TEST_F(EvaluatorTest, AWorkerOnADeviceEvaluatesAMessagesTasksTogether) {
  Evaluator evaluator("w-2", registry_, false, WorkerDevice{0, "cuda:0 Some GPU"});
  EXPECT_TRUE(evaluator.Batches());
  EXPECT_FALSE(Evaluator("w-3", registry_).Batches());
  const v1::EvalRequest shared = Request("j", testing::ToyProblem(3, 0, 0));
  std::vector<v1::EvalRequest> own;
  for (double x : {1.0, 2.0, 4.0}) {
    v1::EvalRequest task;
    task.set_index(own.size());
    test::ToyVector vector;
    for (int d = 0; d < 3; ++d) vector.add_x(x);
    *task.mutable_candidate() = PackCandidate(vector);
    own.push_back(task);
  }
  const std::vector<v1::Evaluation> ran = evaluator.RunBatch(shared, own);
  ASSERT_EQ(ran.size(), 3u);
  EXPECT_EQ(batch_sizes_, std::vector<size_t>({3}));
  for (size_t i = 0; i < ran.size(); ++i) {
    v1::EvalRequest alone = shared;
    *alone.mutable_candidate() = own[i].candidate();
    const v1::Evaluation expected = evaluator.Run(alone);
    EXPECT_EQ(ran[i].status(), v1::OK) << ran[i].error();
    EXPECT_EQ(ran[i].objectives(0), expected.objectives(0));
    EXPECT_EQ(ran[i].device(), "cuda:0 Some GPU");
    EXPECT_EQ(ran[i].worker(), "w-2");
    EXPECT_GE(ran[i].eval_seconds(), 0);
  }
  EXPECT_EQ(cuda_device_, 0);
  const v1::EvalRequest other = Request("k", OtherBuildToy());
  const int before = evaluations_;
  const std::vector<v1::Evaluation> refused = evaluator.RunBatch(other, own);
  ASSERT_EQ(refused.size(), 3u);
  for (const v1::Evaluation& e : refused) EXPECT_EQ(e.status(), v1::FAILED);
  EXPECT_EQ(evaluations_, before);
}

TEST_F(EvaluatorTest, RefusesAnotherEvaluatorVersionWithoutEvaluating) {
  Evaluator evaluator("w-0", registry_);
  const v1::Evaluation evaluation = evaluator.Run(Request("j", OtherBuildToy()));
  EXPECT_EQ(evaluation.status(), v1::FAILED);
  EXPECT_EQ(evaluation.error(),
            "the worker's problem differs from the coordinator's: evaluator version toy/1 here "
            "vs toy/0 there");
  EXPECT_EQ(evaluation.worker(), "w-0");
  EXPECT_EQ(evaluation.objectives_size(), 0);
  EXPECT_EQ(evaluations_, 0);
}

TEST_F(EvaluatorTest, RefusesAnotherCanonicalSpecNamingBothFingerprints) {
  Evaluator evaluator("w-0", registry_);
  // Same domain and version; the coordinator's problem has another canonical spec (as when a file
  // the spec names has other content there).
  const testing::ToyProblem coordinators(3, 0.5, 0);
  const testing::ToyProblem workers(3, 0, 0);
  const v1::Evaluation evaluation = evaluator.Run(Request("j", coordinators));
  EXPECT_EQ(evaluation.status(), v1::FAILED);
  EXPECT_EQ(evaluation.error(),
            "the worker's problem differs from the coordinator's: the spec's files differ on "
            "this worker (problem fingerprint " +
                ProblemFingerprint(workers) + " here vs " + ProblemFingerprint(coordinators) +
                " there)");
  EXPECT_EQ(evaluations_, 0);
}

TEST_F(EvaluatorTest, EvaluatesARequestWithoutAFingerprintUnchecked) {
  Evaluator evaluator("w-0", registry_);
  v1::EvalRequest request = Request("j", OtherBuildToy());
  request.clear_problem_fingerprint();  // an older coordinator
  request.clear_evaluator_version();
  EXPECT_EQ(evaluator.Run(request).status(), v1::OK);
  EXPECT_EQ(evaluations_, 1);
}

TEST_F(EvaluatorTest, LogsAMismatchOncePerJob) {
  std::ostringstream log;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(log)));
  Evaluator evaluator("w-0", registry_);
  for (const char* job : {"a", "a", "a", "b", "b"}) {
    EXPECT_EQ(evaluator.Run(Request(job, OtherBuildToy())).status(), v1::FAILED);
  }
  spdlog::set_default_logger(previous);
  const std::string text = log.str();
  auto count = [&](const std::string& needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
      ++n;
    return n;
  };
  EXPECT_EQ(count("job a: refusing its evaluations: the worker's problem differs"), 1u) << text;
  EXPECT_EQ(count("job b: refusing its evaluations: the worker's problem differs"), 1u) << text;
  EXPECT_EQ(evaluations_, 0);
}

}  // namespace
}  // namespace evolv
