// A domain defined only in the test tree (tests/support/toy_problem.h and its proto) runs end to
// end through a real evolvd process and its gRPC API: submitted as an Any, evaluated, cached
// (a second job is served from the cache), queried with the domain's own renderings, and named
// by the API with its objective names. Nothing outside tests/ knows the toy domain.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include "evolv/test/toy.pb.h"
#include "evolv/v1/service.grpc.pb.h"
#include "tests/support/subprocess.h"
#include "tests/support/temp_dir.h"

namespace evolv {
namespace {

using namespace std::chrono_literals;

std::map<std::string, int> ReadPorts(const std::string& path) {
  std::map<std::string, int> ports;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    const size_t eq = line.find('=');
    if (eq != std::string::npos) ports[line.substr(0, eq)] = std::stoi(line.substr(eq + 1));
  }
  return ports;
}

v1::JobSpec ToyJobSpec(const std::string& name) {
  v1::JobSpec spec;
  spec.set_name(name);
  test::ToySpec toy;
  toy.set_dims(2);
  spec.mutable_problem()->PackFrom(toy);
  spec.mutable_strategy()->mutable_regularized_evolution()->set_population_size(10);
  spec.mutable_budget()->set_max_evaluations(200);
  spec.set_seed(3);
  spec.set_window(4);
  return spec;
}

class PluginDomainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string ports = dir_.Sub("ports");
    server_ = std::make_unique<Subprocess>(
        std::vector<std::string>{EVOLVD_WITH_TOY, "--data-dir", dir_.Sub("data"), "--grpc-port",
                                 "0", "--http-port", "0", "--workers", "2", "--port-file", ports},
        dir_.Sub("out"), dir_.Sub("err"));
    for (int i = 0; i < 1000 && !ReadPorts(ports).count("grpc"); ++i) {
      std::this_thread::sleep_for(10ms);
    }
    const int port = ReadPorts(ports)["grpc"];
    ASSERT_GT(port, 0) << server_->Stderr();
    stub_ = v1::SearchService::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()));
  }

  v1::JobRecord RunToEnd(const v1::JobSpec& spec) {
    v1::SubmitJobRequest submit;
    *submit.mutable_spec() = spec;
    v1::JobRecord job;
    grpc::ClientContext context;
    const grpc::Status status = stub_->SubmitJob(&context, submit, &job);
    EXPECT_TRUE(status.ok()) << status.error_message();
    for (int i = 0; i < 600; ++i) {
      grpc::ClientContext get_context;
      v1::GetJobRequest get;
      get.set_job_id(job.id());
      EXPECT_TRUE(stub_->GetJob(&get_context, get, &job).ok());
      if (job.state() == v1::SUCCEEDED || job.state() == v1::FAILED_STATE) break;
      std::this_thread::sleep_for(50ms);
    }
    return job;
  }

  TempDir dir_;
  std::unique_ptr<Subprocess> server_;
  std::unique_ptr<v1::SearchService::Stub> stub_;
};

TEST_F(PluginDomainTest, ATestOnlyDomainRunsThroughEvolvdsGrpcApiWithCacheHits) {
  const v1::JobRecord first = RunToEnd(ToyJobSpec("toy first"));
  ASSERT_EQ(first.state(), v1::SUCCEEDED) << first.error();
  EXPECT_EQ(first.progress().evaluations(), 200u);
  EXPECT_GT(first.progress().cache().misses(), 0u);

  // The same search again: every key is cached by the first job.
  const v1::JobRecord second = RunToEnd(ToyJobSpec("toy second"));
  ASSERT_EQ(second.state(), v1::SUCCEEDED) << second.error();
  EXPECT_EQ(second.progress().cache().hits(), 200u);
  EXPECT_EQ(second.progress().cache().misses(), 0u);

  // Rows come back with the toy domain's candidates and renderings, and the API names the
  // domain and its objectives.
  v1::QueryEvaluationsRequest query;
  query.set_job_id(first.id());
  query.set_page_size(5);
  v1::QueryEvaluationsResponse rows;
  grpc::ClientContext context;
  ASSERT_TRUE(stub_->QueryEvaluations(&context, query, &rows).ok());
  ASSERT_EQ(rows.rows_size(), 5);
  test::ToyVector vector;
  ASSERT_TRUE(rows.rows(0).candidate().value().UnpackTo(&vector));
  EXPECT_EQ(vector.x_size(), 2);
  EXPECT_FALSE(rows.rows(0).rendered().empty());
  EXPECT_EQ(rows.problem().domain(), "toy");
  ASSERT_EQ(rows.problem().objective_names_size(), 2);
  EXPECT_EQ(rows.problem().objective_names(0), "distance");

  v1::ListJobsRequest list;
  v1::ListJobsResponse jobs;
  grpc::ClientContext list_context;
  ASSERT_TRUE(stub_->ListJobs(&list_context, list, &jobs).ok());
  ASSERT_TRUE(jobs.domains().count(first.id()));
  EXPECT_EQ(jobs.domains().at(first.id()), "toy");
}

TEST_F(PluginDomainTest, AnUnknownProblemTypeIsInvalidArgumentNamingTheKnownDomains) {
  v1::JobSpec spec = ToyJobSpec("unknown");
  spec.mutable_problem()->set_type_url("type.googleapis.com/evolv.test.NoSuchSpec");
  v1::SubmitJobRequest submit;
  *submit.mutable_spec() = spec;
  v1::JobRecord job;
  grpc::ClientContext context;
  const grpc::Status status = stub_->SubmitJob(&context, submit, &job);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("problem: unknown problem type 'evolv.test.NoSuchSpec'"),
            std::string::npos)
      << status.error_message();
  EXPECT_NE(status.error_message().find("toy"), std::string::npos) << status.error_message();
}

}  // namespace
}  // namespace evolv
