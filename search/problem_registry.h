// The problem registry: which search domains exist and how a job spec becomes a Problem.
//
// A domain registers its name, the protobuf message type of its spec (carried in
// JobSpec.problem as a google.protobuf.Any) and a factory. Nothing outside the domain's own
// folder names it: the service, the actors, the store and the page learn domains from here.
//
// Registration is checked, so that a broken domain is a startup error rather than a silent
// cache collision: a second domain with a taken name or spec type, or one whose example spec
// does not build a Problem with that name, a non-empty canonical spec and objective names (with
// one ObjectiveDisplay per name, in order), is refused.
// A domain whose example is refused with FAILED_PRECONDITION (something this machine lacks,
// such as the dataset its evaluations read) is registered all the same and listed by
// Unavailable(): its jobs are built, and refused, by its factory as on any machine.
//
// Thread-safety: register everything before the first Create; the const methods are then safe
// to call from any thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "evolv/v1/job.pb.h"
#include "google/protobuf/any.pb.h"
#include "search/problem.h"

namespace evolv {

// Validates a domain spec and builds the problem. A bad spec gives InvalidArgument whose
// message starts with the field path, e.g. "<domain>.lower: must be below <domain>.upper".
// Where a domain's messages sat in schema version 1 of the store, for domains that existed then
// (storage/schema_migration.h): the JobSpec and Candidate field numbers and the candidate's
// message type. Domains added later have none.
struct SchemaV1Slot {
  int job_spec_field = 0;
  int candidate_field = 0;
  std::string candidate_type;
};

// A command-line tool a domain offers beside its search (e.g. training a model its evaluations
// use), run as `evolv NAME SPEC [options]`. `run` gets the loaded job spec (its problem is the
// domain's) and the options after SPEC; it returns the process exit code (2: bad usage or spec).
struct DomainCommand {
  std::string name;
  std::string help;
  std::string options_help;  // e.g. "[--out FILE]"
  std::function<int(const v1::JobSpec& spec, const std::vector<std::string>& options)> run;
};

// What a domain's evaluations run: the project's own code, or commands that a job's spec names
// (a study's objective). Only workers that allow commands (evolvd and evolv-worker
// --allow-commands; WorkerInfo.allows_commands) are sent the latter's evaluations, and a worker
// that does not allow them refuses them (docs/security.md).
enum class DomainRuns { kOwnCode, kUserCommands };

// Where a domain's evaluations run best: anywhere, or on a worker with a CUDA device when one is
// free (its evaluator has a device path, used through EvalContext::cuda_device; any worker can
// still run it). The dispatcher sends such a domain's tasks to CUDA workers first
// (DispatcherOptions::cuda_domains).
enum class DomainDevice { kAny, kPrefersCuda };

template <class Spec>
using TypedProblemFactory = std::function<absl::StatusOr<std::unique_ptr<Problem>>(const Spec&)>;

class ProblemRegistry {
 public:
  // Registers domain `name` whose spec is a `Spec` message; `example` is a valid spec the
  // registration builds once to check the domain (see above). InvalidArgument on a refusal.
  template <class Spec>
  absl::Status Register(std::string name, TypedProblemFactory<Spec> factory, const Spec& example,
                        std::optional<SchemaV1Slot> schema_v1 = std::nullopt,
                        std::vector<DomainCommand> commands = {},
                        DomainRuns runs = DomainRuns::kOwnCode,
                        DomainDevice device = DomainDevice::kAny) {
    Entry entry;
    entry.name = std::move(name);
    entry.runs = runs;
    entry.device = device;
    entry.spec_type = Spec::descriptor()->full_name();
    entry.schema_v1 = std::move(schema_v1);
    entry.commands = std::move(commands);
    entry.factory =
        [factory = std::move(factory), domain = entry.name](
            const google::protobuf::Any& any) -> absl::StatusOr<std::unique_ptr<Problem>> {
      Spec spec;
      if (!any.UnpackTo(&spec)) {
        return absl::InvalidArgumentError(domain + ": the problem spec is not a valid " +
                                          Spec::descriptor()->full_name());
      }
      return factory(spec);
    };
    google::protobuf::Any packed;
    packed.PackFrom(example);
    return Add(std::move(entry), packed);
  }

  // Builds the problem the spec names. InvalidArgument naming the field for a missing or
  // unknown problem type, or for the domain's own validation errors.
  absl::StatusOr<std::unique_ptr<Problem>> Create(const v1::JobSpec& spec) const;
  // The domain of the spec's problem, or "" when none is registered for it.
  std::string DomainOf(const v1::JobSpec& spec) const;
  // The full protobuf type name of a domain's spec message, or "" for an unknown domain.
  std::string SpecTypeOf(std::string_view domain) const;
  // Registered domain names, sorted.
  std::vector<std::string> Domains() const;
  // Whether the domain's evaluations run commands its jobs' specs name (DomainRuns).
  bool RunsCommands(std::string_view domain) const;
  // The domains for which RunsCommands is true (DispatcherOptions::command_domains).
  std::set<std::string> CommandDomains() const;
  // The domains registered with DomainDevice::kPrefersCuda (DispatcherOptions::cuda_domains).
  std::set<std::string> CudaDomains() const;
  // Every domain's command-line tools, by domain name order.
  std::vector<DomainCommand> Commands() const;
  // Domains registered although their example was refused with FAILED_PRECONDITION, with the
  // reason, by name.
  const std::map<std::string, std::string>& Unavailable() const { return unavailable_; }
  // Schema-1 field number -> full message type, of the domains' specs and candidates.
  std::map<int, std::string> SchemaV1JobSpecFields() const;
  std::map<int, std::string> SchemaV1CandidateFields() const;

 private:
  struct Entry {
    std::string name;
    std::string spec_type;
    std::function<absl::StatusOr<std::unique_ptr<Problem>>(const google::protobuf::Any&)> factory;
    std::optional<SchemaV1Slot> schema_v1;
    std::vector<DomainCommand> commands;
    DomainRuns runs = DomainRuns::kOwnCode;
    DomainDevice device = DomainDevice::kAny;
  };
  absl::Status Add(Entry entry, const google::protobuf::Any& example);
  const Entry* Find(const v1::JobSpec& spec) const;

  std::map<std::string, Entry> by_type_;  // spec type -> entry
  std::map<std::string, std::string> unavailable_;
};

}  // namespace evolv
