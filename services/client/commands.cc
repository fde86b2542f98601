#include "services/client/commands.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <utility>
#include <vector>

#include "actors/job_lifecycle.h"
#include "evaluators/registry.h"
#include "search/functional_hash.h"
#include "search/job_spec.h"
#include "services/client/client.h"
#include "services/job_report.h"
#include "services/progress_line.h"
#include "services/spec_io.h"

namespace evolv {

struct ClientCommands::State {
  ClientOptions options;
  std::string spec_path;
  std::string job_id;
  std::string state_filter;
  bool json = false;
  std::string format = "c";
  std::string key;
  std::string out_dir;
  int top = 10;
  bool quiet = false;
  CLI::App* submit = nullptr;
  CLI::App* list = nullptr;
  CLI::App* status = nullptr;
  CLI::App* watch = nullptr;
  CLI::App* cancel = nullptr;
  CLI::App* pause = nullptr;
  CLI::App* resume = nullptr;
  CLI::App* best = nullptr;
  CLI::App* export_cmd = nullptr;
  CLI::App* report = nullptr;
  CLI::App* cache = nullptr;
  CLI::App* cache_get = nullptr;
  CLI::App* cache_query = nullptr;
};

namespace {

constexpr double kReportTimeoutSeconds = 600;

void AddCommon(CLI::App* cmd, ClientCommands::State& s) {
  cmd->add_option("--server", s.options.server,
                  "evolvd address HOST[:PORT], port 50051 by default (else $EVOLV_SERVER)");
  cmd->add_option("--token-file", s.options.token_file, "bearer token file (else $EVOLV_TOKEN)");
}

int Fail(const Client& client, const grpc::Status& status) {
  std::fprintf(stderr, "evolv: %s\n", client.Explain(status).c_str());
  return status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ? 2 : 1;
}

void PrintRecord(const v1::JobRecord& job) {
  const auto& p = job.progress();
  const auto& c = p.cache();
  const double lookups = static_cast<double>(c.hits() + c.misses());
  std::printf(
      "job      %s\nname     %s\nstate    %s\nprogress %s\ncache    %llu hits, %llu "
      "misses (%.1f%%), %llu collisions, %.2f evaluation-seconds saved\n",
      job.id().c_str(), job.spec().name().c_str(), JobStateName(job.state()).c_str(),
      ProgressLine(p, false).c_str(), static_cast<unsigned long long>(c.hits()),
      static_cast<unsigned long long>(c.misses()), lookups > 0 ? 100.0 * c.hits() / lookups : 0.0,
      static_cast<unsigned long long>(c.collisions()), c.eval_seconds_saved());
  if (!job.error().empty()) std::printf("error    %s\n", job.error().c_str());
}

// Each objective as the server's description of the problem says to show it ("max rel. error
// 6.2e-08, cost 9 ops"); by name alone from a server that sends no displays.
std::string Objectives(const v1::Evaluation& evaluation, const v1::ProblemDescription& problem) {
  std::string out;
  for (int i = 0; i < evaluation.objectives_size(); ++i) {
    v1::ObjectiveDisplay display;
    if (i < problem.objectives_size()) {
      display = problem.objectives(i);
    } else if (i < problem.objective_names_size()) {
      display.set_name(problem.objective_names(i));
    }
    out += (i ? ", " : " ") + FormatObjective(display, evaluation.objectives(i));
  }
  return out;
}

// The job's progress as `list` shows it, with the budget from the spec for records written
// before the progress carried it.
v1::JobProgress ListedProgress(const v1::JobRecord& job) {
  v1::JobProgress p = job.progress();
  const v1::Budget& budget = job.spec().budget();
  if (p.budget_seconds() == 0) p.set_budget_seconds(budget.max_seconds());
  if (p.budget_evaluations() == 0) p.set_budget_evaluations(budget.max_evaluations());
  return p;
}

int Best(Client& client, const std::string& job_id, v1::EvaluationRow* row,
         v1::ProblemDescription* problem) {
  v1::QueryEvaluationsRequest request;
  request.set_job_id(job_id);
  request.set_page_size(1);
  v1::QueryEvaluationsResponse response;
  auto context = client.Context();
  grpc::Status status = client.stub().QueryEvaluations(context.get(), request, &response);
  if (!status.ok()) return Fail(client, status);
  if (response.rows_size() == 0) {
    std::fprintf(stderr, "evolv: job %s has no checkpointed evaluation yet\n", job_id.c_str());
    return 1;
  }
  *row = response.rows(0);
  *problem = response.problem();
  return 0;
}

}  // namespace

CLI::Validator ReportDirValidator() {
  return CLI::Validator(
      [](const std::string& dir) {
        const absl::Status status = CheckReportDir(dir);
        return status.ok() ? std::string() : std::string(status.message());
      },
      "DIR");
}

ClientCommands::ClientCommands(CLI::App& app) : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.submit = app.add_subcommand("submit", "submit a job to evolvd; prints its id");
  s.submit->add_option("spec", s.spec_path, "job spec file (JSON or text-format JobSpec)")
      ->required();
  s.list = app.add_subcommand("list", "list jobs");
  s.list->add_option("--state", s.state_filter,
                     "only jobs in this state: " + JobStateNames() + " (any case)");
  s.status = app.add_subcommand("status", "show one job");
  s.status->add_flag("--json", s.json, "print the JobRecord as JSON");
  s.watch = app.add_subcommand("watch", "follow a job's progress until it ends");
  s.watch->add_flag("--quiet", s.quiet, "only the final line");
  s.cancel = app.add_subcommand("cancel", "cancel a job");
  s.pause = app.add_subcommand("pause", "pause a job (checkpointed)");
  s.resume = app.add_subcommand("resume", "resume a paused job");
  s.best = app.add_subcommand("best", "the best candidate of a job, rendered");
  s.export_cmd = app.add_subcommand("export", "export a job's best candidate");
  s.export_cmd
      ->add_option("--format", s.format,
                   "c: the candidate as the server renders it (code); json: the whole row")
      ->check(CLI::IsMember({"c", "json"}))
      ->capture_default_str();
  s.report = app.add_subcommand("report", "a job's report: its text, and with --out its figures");
  s.report
      ->add_option("--out", s.out_dir,
                   "write DIR/report.txt and each figure as a PNG file in DIR (created if missing)")
      ->check(ReportDirValidator());
  for (CLI::App* cmd :
       {s.status, s.watch, s.cancel, s.pause, s.resume, s.best, s.export_cmd, s.report}) {
    cmd->add_option("id", s.job_id, "job id")->required();
  }
  s.cache = app.add_subcommand("cache", "query the evaluation cache");
  s.cache->require_subcommand(1);
  s.cache_get = s.cache->add_subcommand("get", "one cache row by key (32 hex digits)");
  s.cache_get->add_option("key", s.key, "functional key, hex")->required();
  s.cache_query = s.cache->add_subcommand("query", "a job's best evaluations");
  s.cache_query->add_option("--job", s.job_id, "job id")->required();
  s.cache_query->add_option("--top", s.top, "how many")->check(CLI::Range(1, 1000));
  for (CLI::App* cmd : {s.submit, s.list, s.status, s.watch, s.cancel, s.pause, s.resume, s.best,
                        s.export_cmd, s.report, s.cache_get, s.cache_query}) {
    AddCommon(cmd, s);
  }
}

ClientCommands::~ClientCommands() = default;

std::optional<int> ClientCommands::Run() {
  State& s = *state_;
  const bool selected = *s.submit || *s.list || *s.status || *s.watch || *s.cancel || *s.pause ||
                        *s.resume || *s.best || *s.export_cmd || *s.report || *s.cache;
  if (!selected) return std::nullopt;
  // A domain's figures may take a while to draw (the server caches them afterwards).
  if (*s.report) s.options.timeout_seconds = kReportTimeoutSeconds;
  std::string error;
  auto client = Client::Connect(s.options, &error);
  if (!client) {
    std::fprintf(stderr, "evolv: %s\n", error.c_str());
    return 2;
  }

  if (*s.submit) {
    auto spec = LoadJobSpec(s.spec_path, BuiltinProblems());
    if (!spec.ok()) {
      std::fprintf(stderr, "evolv: %s\n", std::string(spec.status().message()).c_str());
      return 2;
    }
    // Bytes gRPC would refuse without naming the field (see CheckSpecEncoding).
    if (absl::Status encoding = CheckSpecEncoding(*spec); !encoding.ok()) {
      std::fprintf(stderr, "evolv: %s: %s\n", s.spec_path.c_str(),
                   std::string(encoding.message()).c_str());
      return 2;
    }
    v1::SubmitJobRequest request;
    *request.mutable_spec() = *spec;
    v1::JobRecord job;
    auto context = client->Context();
    grpc::Status status = client->stub().SubmitJob(context.get(), request, &job);
    if (!status.ok()) return Fail(*client, status);
    std::printf("%s\n", job.id().c_str());
    return 0;
  }
  if (*s.list) {
    v1::ListJobsRequest request;
    if (!s.state_filter.empty()) {
      const std::optional<v1::JobState> state = ParseJobStateName(s.state_filter);
      if (!state) {
        std::fprintf(stderr, "evolv: --state: unknown state '%s' (one of %s, in any case)\n",
                     s.state_filter.c_str(), JobStateNames().c_str());
        return 2;
      }
      request.add_states(*state);
    }
    request.set_page_size(1000);
    // Every page first, so that a failure prints no half table.
    std::vector<std::pair<v1::JobRecord, std::string>> jobs;  // with its domain
    for (;;) {
      v1::ListJobsResponse response;
      auto context = client->Context();
      grpc::Status status = client->stub().ListJobs(context.get(), request, &response);
      if (!status.ok()) return Fail(*client, status);
      for (const auto& job : response.jobs()) {
        auto domain = response.domains().find(job.id());
        jobs.emplace_back(job, domain == response.domains().end() ? "?" : domain->second);
      }
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    std::printf("%-18s %-10s %-10s %-30s %-28s %s\n", "ID", "STATE", "DOMAIN", "PROGRESS", "BEST",
                "NAME");
    for (const auto& [job, domain] : jobs) {
      const v1::JobProgress p = ListedProgress(job);
      std::string best = FormatBest(p);
      if (best.empty()) best = "-";
      std::printf("%-18s %-10s %-10s %-30s %-28s %s\n", job.id().c_str(),
                  JobStateName(job.state()).c_str(), domain.c_str(), FormatWork(p).c_str(),
                  best.c_str(), job.spec().name().c_str());
    }
    return 0;
  }
  if (*s.status) {
    v1::GetJobRequest request;
    request.set_job_id(s.job_id);
    v1::JobRecord job;
    auto context = client->Context();
    grpc::Status status = client->stub().GetJob(context.get(), request, &job);
    if (!status.ok()) return Fail(*client, status);
    if (s.json) {
      std::cout << ToJson(job) << "\n";
    } else {
      PrintRecord(job);
    }
    return 0;
  }
  if (*s.watch) {
    v1::WatchJobRequest request;
    request.set_job_id(s.job_id);
    auto context = client->Context(true);
    auto reader = client->stub().WatchJob(context.get(), request);
    const bool tty = isatty(STDERR_FILENO);
    v1::JobEvent event, last;
    bool any = false;
    while (reader->Read(&event)) {
      last = event;
      any = true;
      if (s.quiet) continue;
      if (tty) {
        std::fprintf(stderr, "\r%s\033[K", ProgressLine(event.progress(), true).c_str());
      } else {
        std::fprintf(stderr, "%s\n", ProgressLine(event.progress(), false).c_str());
      }
    }
    grpc::Status status = reader->Finish();
    if (tty && !s.quiet) std::fprintf(stderr, "\n");
    if (!status.ok()) return Fail(*client, status);
    if (!any) return 1;
    std::printf("%s %s %s\n", s.job_id.c_str(), JobStateName(last.state()).c_str(),
                ProgressLine(last.progress(), false).c_str());
    if (!last.error().empty()) std::fprintf(stderr, "evolv: %s\n", last.error().c_str());
    return last.state() == v1::FAILED_STATE ? 1 : 0;
  }
  if (*s.cancel || *s.pause || *s.resume) {
    v1::JobRecord job;
    auto context = client->Context();
    grpc::Status status;
    if (*s.cancel) {
      v1::CancelJobRequest request;
      request.set_job_id(s.job_id);
      status = client->stub().CancelJob(context.get(), request, &job);
    } else if (*s.pause) {
      v1::PauseJobRequest request;
      request.set_job_id(s.job_id);
      status = client->stub().PauseJob(context.get(), request, &job);
    } else {
      v1::ResumeJobRequest request;
      request.set_job_id(s.job_id);
      status = client->stub().ResumeJob(context.get(), request, &job);
    }
    if (!status.ok()) return Fail(*client, status);
    std::printf("%s %s\n", job.id().c_str(), JobStateName(job.state()).c_str());
    return 0;
  }
  if (*s.best || *s.export_cmd) {
    v1::EvaluationRow row;
    v1::ProblemDescription problem;
    if (int code = Best(*client, s.job_id, &row, &problem); code != 0) return code;
    if (*s.export_cmd && s.format == "json") {
      std::cout << ToJson(row) << "\n";
      return 0;
    }
    if (*s.best) {
      std::printf("// job %s (%s), evaluation %llu, objectives:%s\n", s.job_id.c_str(),
                  problem.domain().c_str(), static_cast<unsigned long long>(row.index()),
                  Objectives(row.evaluation(), problem).c_str());
    }
    std::printf("%s", row.rendered().c_str());
    if (!row.rendered().empty() && row.rendered().back() != '\n') std::printf("\n");
    return 0;
  }
  if (*s.report) {
    v1::GetJobReportRequest request;
    request.set_job_id(s.job_id);
    v1::JobReport report;
    auto context = client->Context();
    grpc::Status status = client->stub().GetJobReport(context.get(), request, &report);
    if (!status.ok()) return Fail(*client, status);
    std::printf("%s", report.text().c_str());
    if (s.out_dir.empty()) return 0;
    if (absl::Status written = WriteJobReport(report, s.out_dir); !written.ok()) {
      std::fprintf(stderr, "evolv: %s\n", std::string(written.message()).c_str());
      return 1;
    }
    std::fprintf(stderr, "evolv: wrote report.txt and %d figures to %s\n", report.figures_size(),
                 s.out_dir.c_str());
    return 0;
  }
  if (*s.cache_get) {
    v1::GetEvaluationRequest request;
    CacheKey key;
    if (!CacheKey::FromHex(s.key, &key)) {
      std::fprintf(stderr, "evolv: key: expected 32 hex digits\n");
      return 2;
    }
    request.set_key(key.Bytes());
    v1::EvaluationResponse response;
    auto context = client->Context();
    grpc::Status status = client->stub().GetEvaluation(context.get(), request, &response);
    if (!status.ok()) return Fail(*client, status);
    std::cout << ToJson(response) << "\n";
    return 0;
  }
  if (*s.cache_query) {
    v1::QueryEvaluationsRequest request;
    request.set_job_id(s.job_id);
    request.set_page_size(s.top);
    v1::QueryEvaluationsResponse response;
    auto context = client->Context();
    grpc::Status status = client->stub().QueryEvaluations(context.get(), request, &response);
    if (!status.ok()) return Fail(*client, status);
    std::printf("%-8s %-32s %-4s %s\n", "INDEX", "KEY", "HIT", "OBJECTIVES");
    for (const auto& row : response.rows()) {
      std::printf("%-8llu %-32s %-4s%s\n", static_cast<unsigned long long>(row.index()),
                  row.key_hex().c_str(), row.cache_hit() ? "yes" : "no",
                  Objectives(row.evaluation(), response.problem()).c_str());
    }
    return 0;
  }
  return 2;
}

}  // namespace evolv
