// A domain defined only in the test tree (tests/support/toy_problem.h and its proto) runs end to
// end through a real evolvd process and its gRPC API: submitted as an Any, evaluated, cached
// (a second job is served from the cache), queried with the domain's own renderings, named
// by the API with its objective names, and its report's figure served over gRPC, HTTP and the
// `evolv report` CLI. Nothing outside tests/ knows the toy domain.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "evolv/test/toy.pb.h"
#include "evolv/v1/service.grpc.pb.h"
#include "tests/support/http_get.h"
#include "tests/support/png_decode.h"
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
    grpc_address_ = "127.0.0.1:" + std::to_string(port);
    http_port_ = ReadPorts(ports)["http"];
    stub_ = v1::SearchService::NewStub(
        grpc::CreateChannel(grpc_address_, grpc::InsecureChannelCredentials()));
  }

  struct Outcome {
    int code;
    std::string out;
    std::string err;
  };
  // The evolv CLI against this server.
  Outcome Cli(std::vector<std::string> args) {
    args.insert(args.begin(), EVOLV_BINARY);
    args.push_back("--server");
    args.push_back(grpc_address_);
    const std::string tag = std::to_string(cli_runs_++);
    Subprocess cli(args, dir_.Sub("cli-out" + tag), dir_.Sub("cli-err" + tag));
    const auto code = cli.Wait(60s);
    EXPECT_TRUE(code.has_value()) << "evolv did not finish";
    return {code.value_or(-1), cli.Stdout(), cli.Stderr()};
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
  std::string grpc_address_;
  int http_port_ = 0;
  int cli_runs_ = 0;
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

TEST_F(PluginDomainTest, TheCliShowsTheDomainsObjectiveLabelsAndStatesAsPeopleReadThem) {
  const v1::JobRecord job = RunToEnd(ToyJobSpec("toy labels"));
  ASSERT_EQ(job.state(), v1::SUCCEEDED) << job.error();
  // The API carries how the problem shows its objectives, in the progress and the description.
  EXPECT_EQ(job.progress().objective().label(), "squared distance");

  // `list`: a state in any case; the objective by its label, evaluations of the budget.
  const Outcome listed = Cli({"list", "--state", "succeeded"});
  ASSERT_EQ(listed.code, 0) << listed.err;
  EXPECT_NE(listed.out.find(job.id()), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("SUCCEEDED"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("200/200 evals"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("squared distance "), std::string::npos) << listed.out;
  const Outcome running = Cli({"list", "--state", "Running"});
  ASSERT_EQ(running.code, 0) << running.err;
  EXPECT_EQ(running.out.find(job.id()), std::string::npos) << running.out;

  // `status`, `watch` and `best` name the objectives the same way.
  const Outcome status = Cli({"status", job.id()});
  ASSERT_EQ(status.code, 0) << status.err;
  EXPECT_NE(status.out.find("state    SUCCEEDED"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("200/200 evals  best squared distance "), std::string::npos)
      << status.out;
  const Outcome watched = Cli({"watch", job.id()});
  ASSERT_EQ(watched.code, 0) << watched.err;
  EXPECT_NE(watched.out.find(job.id() + " SUCCEEDED 200/200 evals  best squared distance "),
            std::string::npos)
      << watched.out;
  const Outcome best = Cli({"best", job.id()});
  ASSERT_EQ(best.code, 0) << best.err;
  EXPECT_NE(best.out.find("objectives: squared distance "), std::string::npos) << best.out;
  EXPECT_NE(best.out.find(", L1 norm "), std::string::npos) << best.out;
}

TEST_F(PluginDomainTest, TheDomainsReportAndFigureComeOverGrpcHttpAndTheCli) {
  const v1::JobRecord job = RunToEnd(ToyJobSpec("toy report"));
  ASSERT_EQ(job.state(), v1::SUCCEEDED) << job.error();

  // gRPC: the text and the figure, a 4 x 4 gray PNG.
  v1::GetJobReportRequest request;
  request.set_job_id(job.id());
  v1::JobReport report;
  grpc::ClientContext context;
  const grpc::Status status = stub_->GetJobReport(&context, request, &report);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(report.job_id(), job.id());
  EXPECT_EQ(report.text(), "toy: 200 results\n");
  EXPECT_EQ(report.history_size(), 200u);
  ASSERT_EQ(report.figures_size(), 1);
  EXPECT_EQ(report.figures(0).name(), "gradient.png");
  EXPECT_EQ(report.figures(0).caption(), "toy gradient after 200 results");
  auto decoded = testing::DecodePng(report.figures(0).png());
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(decoded->width, 4);
  EXPECT_EQ(decoded->height, 4);
  EXPECT_EQ(decoded->channels, 1);
  EXPECT_EQ(decoded->pixels[5], 5 * 17);
  ASSERT_EQ(report.charts_size(), 1);
  EXPECT_EQ(report.charts(0).name(), "results");
  EXPECT_EQ(report.charts(0).title(), "toy chart after 200 results");
  ASSERT_EQ(report.charts(0).series_size(), 1);
  EXPECT_EQ(report.charts(0).series(0).y_size(), 5);  // y = x * x at x = 0..4

  // HTTP: the report's JSON names the figure's URL, which serves the same PNG.
  const std::string base = "/api/jobs/" + job.id();
  const testing::HttpResponse json = testing::HttpGet(http_port_, base + "/report");
  ASSERT_EQ(json.status, 200) << json.error << json.body;
  EXPECT_NE(json.body.find("\"text\": \"toy: 200 results\\n\""), std::string::npos) << json.body;
  const std::string url = base + "/figures/gradient.png";
  EXPECT_NE(json.body.find("\"url\": \"" + url + "\""), std::string::npos) << json.body;
  EXPECT_NE(json.body.find("\"caption\": \"toy gradient after 200 results\""), std::string::npos);
  EXPECT_EQ(json.body.find("png\": "), std::string::npos) << "PNG bytes belong to the URL";
  // The charts come whole, in protobuf's JSON mapping.
  EXPECT_NE(json.body.find("\"charts\": [{\"name\":\"results\",\"title\":\"toy chart after 200 "
                           "results\""),
            std::string::npos)
      << json.body;
  EXPECT_NE(json.body.find("\"log_y\":true"), std::string::npos) << json.body;
  EXPECT_NE(json.body.find("\"x\":[0,1,2,3,4],\"y\":[0,1,4,9,16],\"step\":true"), std::string::npos)
      << json.body;
  const testing::HttpResponse png = testing::HttpGet(http_port_, url);
  ASSERT_EQ(png.status, 200) << png.error << png.body;
  EXPECT_EQ(png.content_type, "image/png");
  EXPECT_EQ(png.body, report.figures(0).png());

  // An unknown figure is 404; what is not a figure name is 400 and never looked up.
  EXPECT_EQ(testing::HttpGet(http_port_, base + "/figures/nope.png").status, 404);
  for (const char* bad : {"../../../etc/passwd", "..%2Fgradient.png", "Gradient.png",
                          "gradient.png/x", "gradient", ".png"}) {
    const testing::HttpResponse refused = testing::HttpGet(http_port_, base + "/figures/" + bad);
    EXPECT_EQ(refused.status, 400) << bad << ": " << refused.body;
    EXPECT_NE(refused.body.find("INVALID_ARGUMENT"), std::string::npos) << refused.body;
  }

  // An unknown job: NOT_FOUND over gRPC, 404 over HTTP.
  v1::GetJobReportRequest unknown;
  unknown.set_job_id("0123456789abcdef");
  grpc::ClientContext unknown_context;
  EXPECT_EQ(stub_->GetJobReport(&unknown_context, unknown, &report).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(testing::HttpGet(http_port_, "/api/jobs/0123456789abcdef/report").status, 404);
  EXPECT_EQ(testing::HttpGet(http_port_, "/api/jobs/0123456789abcdef/figures/a.png").status, 404);

  // The CLI prints the text and, with --out, writes it and the figure as files.
  const std::string out = dir_.Sub("report/of/toy");
  const Outcome cli = Cli({"report", job.id(), "--out", out});
  ASSERT_EQ(cli.code, 0) << cli.err;
  EXPECT_EQ(cli.out, "toy: 200 results\n");
  EXPECT_EQ(Subprocess::Slurp(out + "/report.txt"), "toy: 200 results\n");
  EXPECT_EQ(Subprocess::Slurp(out + "/gradient.png"), report.figures(0).png());
  EXPECT_EQ(Cli({"report", job.id()}).out, "toy: 200 results\n");
}

TEST_F(PluginDomainTest, TheReportCommandsBadArgumentsExitTwoAndAnUnknownJobOne) {
  std::ofstream(dir_.Sub("a-file")) << "x";
  const Outcome not_a_dir = Cli({"report", "0123456789abcdef", "--out", dir_.Sub("a-file")});
  EXPECT_EQ(not_a_dir.code, 2) << not_a_dir.err;
  EXPECT_NE(not_a_dir.err.find("exists and is not a directory"), std::string::npos)
      << not_a_dir.err;
  EXPECT_EQ(Cli({"report"}).code, 2);
  EXPECT_EQ(Cli({"report", "0123456789abcdef", "--out", ""}).code, 2);
  const Outcome unknown = Cli({"report", "0123456789abcdef", "--out", dir_.Sub("never")});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_NE(unknown.err.find("NOT_FOUND"), std::string::npos) << unknown.err;
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("never")));
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
