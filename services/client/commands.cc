#include "services/client/commands.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>

#include "evaluators/registry.h"
#include "search/functional_hash.h"
#include "services/client/client.h"
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
  CLI::App* cache = nullptr;
  CLI::App* cache_get = nullptr;
  CLI::App* cache_query = nullptr;
};

namespace {

void AddCommon(CLI::App* cmd, ClientCommands::State& s) {
  cmd->add_option("--server", s.options.server, "evolvd address HOST:PORT (else $EVOLV_SERVER)");
  cmd->add_option("--token-file", s.options.token_file, "bearer token file (else $EVOLV_TOKEN)");
}

const char* StatusName(grpc::StatusCode code) {
  static const char* names[] = {"OK",
                                "CANCELLED",
                                "UNKNOWN",
                                "INVALID_ARGUMENT",
                                "DEADLINE_EXCEEDED",
                                "NOT_FOUND",
                                "ALREADY_EXISTS",
                                "PERMISSION_DENIED",
                                "RESOURCE_EXHAUSTED",
                                "FAILED_PRECONDITION",
                                "ABORTED",
                                "OUT_OF_RANGE",
                                "UNIMPLEMENTED",
                                "INTERNAL",
                                "UNAVAILABLE",
                                "DATA_LOSS",
                                "UNAUTHENTICATED"};
  const int i = static_cast<int>(code);
  return i >= 0 && i <= 16 ? names[i] : "UNKNOWN";
}

int Fail(const grpc::Status& status) {
  std::fprintf(stderr, "evolv: %s: %s\n", StatusName(status.error_code()),
               status.error_message().c_str());
  return status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ? 2 : 1;
}

std::string ProgressLine(const v1::JobProgress& p, bool bar) {
  return evolv::ProgressLine(p, "", bar);
}

void PrintRecord(const v1::JobRecord& job) {
  const auto& p = job.progress();
  const auto& c = p.cache();
  const double lookups = static_cast<double>(c.hits() + c.misses());
  std::printf(
      "job      %s\nname     %s\nstate    %s\nprogress %s\ncache    %llu hits, %llu "
      "misses (%.1f%%), %llu collisions, %.2f evaluation-seconds saved\n",
      job.id().c_str(), job.spec().name().c_str(), v1::JobState_Name(job.state()).c_str(),
      ProgressLine(p, false).c_str(), static_cast<unsigned long long>(c.hits()),
      static_cast<unsigned long long>(c.misses()), lookups > 0 ? 100.0 * c.hits() / lookups : 0.0,
      static_cast<unsigned long long>(c.collisions()), c.eval_seconds_saved());
  if (!job.error().empty()) std::printf("error    %s\n", job.error().c_str());
}

// "name=value" per objective, with the names the server reports for the problem.
std::string Objectives(const v1::Evaluation& evaluation, const v1::ProblemDescription& problem) {
  std::string out;
  for (int i = 0; i < evaluation.objectives_size(); ++i) {
    char value[32];
    std::snprintf(value, sizeof(value), "%.6g", evaluation.objectives(i));
    out += " ";
    if (i < problem.objective_names_size()) out += problem.objective_names(i) + "=";
    out += value;
  }
  return out;
}

int Best(Client& client, const std::string& job_id, v1::EvaluationRow* row,
         v1::ProblemDescription* problem) {
  v1::QueryEvaluationsRequest request;
  request.set_job_id(job_id);
  request.set_page_size(1);
  v1::QueryEvaluationsResponse response;
  auto context = client.Context();
  grpc::Status status = client.stub().QueryEvaluations(context.get(), request, &response);
  if (!status.ok()) return Fail(status);
  if (response.rows_size() == 0) {
    std::fprintf(stderr, "evolv: job %s has no checkpointed evaluation yet\n", job_id.c_str());
    return 1;
  }
  *row = response.rows(0);
  *problem = response.problem();
  return 0;
}

}  // namespace

ClientCommands::ClientCommands(CLI::App& app) : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.submit = app.add_subcommand("submit", "submit a job to evolvd; prints its id");
  s.submit->add_option("spec", s.spec_path, "job spec file (JSON or text-format JobSpec)")
      ->required();
  s.list = app.add_subcommand("list", "list jobs");
  s.list->add_option("--state", s.state_filter, "only jobs in this state (e.g. RUNNING)");
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
  for (CLI::App* cmd : {s.status, s.watch, s.cancel, s.pause, s.resume, s.best, s.export_cmd}) {
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
                        s.export_cmd, s.cache_get, s.cache_query}) {
    AddCommon(cmd, s);
  }
}

ClientCommands::~ClientCommands() = default;

std::optional<int> ClientCommands::Run() {
  State& s = *state_;
  const bool selected = *s.submit || *s.list || *s.status || *s.watch || *s.cancel || *s.pause ||
                        *s.resume || *s.best || *s.export_cmd || *s.cache;
  if (!selected) return std::nullopt;
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
    v1::SubmitJobRequest request;
    *request.mutable_spec() = *spec;
    v1::JobRecord job;
    auto context = client->Context();
    grpc::Status status = client->stub().SubmitJob(context.get(), request, &job);
    if (!status.ok()) return Fail(status);
    std::printf("%s\n", job.id().c_str());
    return 0;
  }
  if (*s.list) {
    v1::ListJobsRequest request;
    if (!s.state_filter.empty()) {
      v1::JobState state;
      if (!v1::JobState_Parse(s.state_filter, &state)) {
        std::fprintf(stderr, "evolv: --state: unknown state %s\n", s.state_filter.c_str());
        return 2;
      }
      request.add_states(state);
    }
    request.set_page_size(1000);
    std::printf("%-18s %-12s %-12s %-22s %-12s %s\n", "ID", "STATE", "DOMAIN", "EVALUATIONS",
                "BEST", "NAME");
    for (;;) {
      v1::ListJobsResponse response;
      auto context = client->Context();
      grpc::Status status = client->stub().ListJobs(context.get(), request, &response);
      if (!status.ok()) return Fail(status);
      for (const auto& job : response.jobs()) {
        char evals[64];
        std::snprintf(evals, sizeof(evals), "%llu/%llu",
                      static_cast<unsigned long long>(job.progress().evaluations()),
                      static_cast<unsigned long long>(job.spec().budget().max_evaluations()));
        auto domain = response.domains().find(job.id());
        std::printf("%-18s %-12s %-12s %-22s %-12.6g %s\n", job.id().c_str(),
                    v1::JobState_Name(job.state()).c_str(),
                    domain == response.domains().end() ? "?" : domain->second.c_str(), evals,
                    job.progress().best_objective(), job.spec().name().c_str());
      }
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return 0;
  }
  if (*s.status) {
    v1::GetJobRequest request;
    request.set_job_id(s.job_id);
    v1::JobRecord job;
    auto context = client->Context();
    grpc::Status status = client->stub().GetJob(context.get(), request, &job);
    if (!status.ok()) return Fail(status);
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
    if (!status.ok()) return Fail(status);
    if (!any) return 1;
    std::printf("%s %s %s\n", s.job_id.c_str(), v1::JobState_Name(last.state()).c_str(),
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
    if (!status.ok()) return Fail(status);
    std::printf("%s %s\n", job.id().c_str(), v1::JobState_Name(job.state()).c_str());
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
    if (!status.ok()) return Fail(status);
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
    if (!status.ok()) return Fail(status);
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
