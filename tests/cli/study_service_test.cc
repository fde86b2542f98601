// A study through a real evolvd over gRPC: refused with FAILED_PRECONDITION (nothing stored) while
// no worker allows commands, INVALID_ARGUMENT naming the field for a bad space, and run to the
// end by an evolvd whose local workers allow commands.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "evolv/v1/service.grpc.pb.h"
#include "evolv/v1/study.pb.h"
#include "tests/support/port_file.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace evolv {
namespace {

using namespace std::chrono_literals;

class StudyServiceTest : public ::testing::Test {
 protected:
  // Starts evolvd on a fresh store with `extra` flags; returns its stub.
  std::unique_ptr<v1::SearchService::Stub> StartEvolvd(const std::vector<std::string>& extra) {
    const std::string tag = std::to_string(servers_.size());
    const std::string ports = dir_.Sub("ports" + tag);
    std::vector<std::string> args = {
        EVOLVD_BINARY, "--data-dir", dir_.Sub("data" + tag), "--grpc-port", "0", "--http-port", "0",
        "--workers",   "2",          "--port-file",          ports};
    args.insert(args.end(), extra.begin(), extra.end());
    servers_.push_back(
        std::make_unique<Subprocess>(args, dir_.Sub("out" + tag), dir_.Sub("err" + tag)));
    const auto found = testing::WaitForPortFile(ports, "grpc", 20s);
    EXPECT_TRUE(found.count("grpc")) << servers_.back()->Stderr();
    return v1::SearchService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(found.count("grpc") ? found.at("grpc") : 1),
        grpc::InsecureChannelCredentials()));
  }

  v1::SubmitJobRequest Submit(double high = 10) {
    const std::string script = dir_.Sub("objective.sh");
    std::ofstream(script)
        << R"sh(awk -v x="$1" 'BEGIN { printf "{\"score\": %.17g}\n", -(x - 3) ^ 2 }')sh"
        << "\n";
    v1::StudySpec study;
    auto* x = study.add_parameters();
    x->set_name("x");
    x->mutable_real()->set_low(0);
    x->mutable_real()->set_high(high);
    auto* score = study.add_objectives();
    score->set_name("score");
    score->set_direction(v1::StudyObjective::MAXIMIZE);
    for (const std::string& arg : {std::string("sh"), script, std::string("{x}")}) {
      study.mutable_command()->add_argv(arg);
    }
    v1::SubmitJobRequest request;
    v1::JobSpec& spec = *request.mutable_spec();
    spec.set_name("study");
    spec.mutable_problem()->PackFrom(study);
    spec.mutable_strategy()->mutable_regularized_evolution()->set_population_size(6);
    spec.mutable_strategy()->mutable_regularized_evolution()->set_tournament_size(2);
    spec.mutable_budget()->set_max_evaluations(30);
    spec.set_window(4);
    return request;
  }

  static size_t JobCount(v1::SearchService::Stub& stub) {
    grpc::ClientContext context;
    v1::ListJobsResponse jobs;
    EXPECT_TRUE(stub.ListJobs(&context, v1::ListJobsRequest(), &jobs).ok());
    return jobs.jobs_size();
  }

  TempDir dir_;
  std::vector<std::unique_ptr<Subprocess>> servers_;
};

TEST_F(StudyServiceTest, WithoutAWorkerThatAllowsCommandsAStudyIsRefusedAndNothingStored) {
  auto stub = StartEvolvd({});
  v1::JobRecord job;
  grpc::ClientContext context;
  const grpc::Status status = stub->SubmitJob(&context, Submit(), &job);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(status.error_message().find("--allow-commands"), std::string::npos)
      << status.error_message();
  // A bad space is named first, as for any spec.
  grpc::ClientContext bad_context;
  const grpc::Status bad = stub->SubmitJob(&bad_context, Submit(-1), &job);
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(bad.error_message().find("study.parameters[0].real.high"), std::string::npos)
      << bad.error_message();
  EXPECT_EQ(JobCount(*stub), 0u);
}

TEST_F(StudyServiceTest, AnEvolvdThatAllowsCommandsRunsTheStudyToItsEnd) {
  auto stub = StartEvolvd({"--allow-commands"});
  v1::JobRecord job;
  grpc::ClientContext context;
  const grpc::Status status = stub->SubmitJob(&context, Submit(), &job);
  ASSERT_TRUE(status.ok()) << status.error_message();
  for (int i = 0; i < 1200 && job.state() != v1::SUCCEEDED && job.state() != v1::FAILED_STATE;
       ++i) {
    std::this_thread::sleep_for(50ms);
    grpc::ClientContext get_context;
    v1::GetJobRequest get;
    get.set_job_id(job.id());
    ASSERT_TRUE(stub->GetJob(&get_context, get, &job).ok());
  }
  ASSERT_EQ(job.state(), v1::SUCCEEDED);
  EXPECT_EQ(job.progress().evaluations(), 30u);
  // The best score is stored negated (maximized) and is at most 0, its best at x = 3.
  EXPECT_GE(job.progress().best_objective(), 0);
  EXPECT_EQ(job.progress().objective().scale(), v1::ObjectiveDisplay::NEGATED);
}

}  // namespace
}  // namespace evolv
