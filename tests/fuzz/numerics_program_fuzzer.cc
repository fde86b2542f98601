// Fuzzes the numerics program decoder: a search candidate as a worker or the store hands it over
// (v1::Candidate bytes, or NumericsProgram bytes packed into one), decoded by FromCandidate and
// then probed, checked for feasibility, rendered and mutated by the numerics problem, as the
// coordinator does with a candidate restored from a checkpoint. Must never crash, leak or hit
// undefined behaviour whatever the bytes; a program that decodes must round-trip through its
// wire form, and compacting it must keep its cost.
//
// Input: byte 0 chooses the form (bit 0: Candidate bytes, else NumericsProgram bytes), the
// problem (bit 1: FLOAT32, else REAL) and whether to evaluate a small program (bit 2); the rest
// is the message.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "evaluators/numerics/numerics_problem.h"
#include "evaluators/numerics/program.h"
#include "search/rng.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using evolv::fuzz::Require;

using evolv::Problem;

const Problem& NumericsProblem(bool float32) {
  static const Problem* const problems[2] = {
      [] {
        evolv::v1::NumericsSpec spec = evolv::NumericsExampleSpec();
        spec.set_max_ops(8);
        return evolv::CreateNumericsProblem(spec)->release();
      }(),
      [] {
        evolv::v1::NumericsSpec spec = evolv::NumericsExampleSpec();
        spec.set_mode(evolv::v1::FLOAT32);
        spec.set_max_ops(8);
        return evolv::CreateNumericsProblem(spec)->release();
      }(),
  };
  return *problems[float32 ? 1 : 0];
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  evolv::fuzz::QuietProtobufLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t flags = data[0];
  const char* bytes = reinterpret_cast<const char*>(data + 1);
  const int length = static_cast<int>(size - 1);
  evolv::v1::Candidate candidate;
  if (flags & 1) {
    if (!candidate.ParseFromArray(bytes, length)) return 0;
  } else {
    evolv::v1::NumericsProgram program;
    if (!program.ParseFromArray(bytes, length)) return 0;
    candidate.mutable_value()->PackFrom(program);
  }
  const Problem& problem = NumericsProblem(flags & 2);

  // What the coordinator runs on any candidate, decodable or not.
  (void)problem.Probe(candidate);
  const std::optional<evolv::v1::Evaluation> infeasible = problem.CheckFeasible(candidate);
  for (auto format : {evolv::RenderFormat::kText, evolv::RenderFormat::kC,
                      evolv::RenderFormat::kCFloat, evolv::RenderFormat::kJson}) {
    (void)problem.Render(candidate, format);
  }

  absl::StatusOr<evolv::numerics::Program> decoded = evolv::numerics::FromCandidate(candidate);
  if (!decoded.ok()) return 0;
  const evolv::numerics::Program& p = *decoded;
  Require(evolv::numerics::Validate(p).ok(), "a decoded program validates");
  absl::StatusOr<evolv::numerics::Program> again =
      evolv::numerics::FromProto(evolv::numerics::ToProto(p));
  Require(again.ok(), "a decoded program's wire form decodes");
  // Bitwise: NaN constants compare unequal as doubles but must survive the round trip.
  Require(again->instructions == p.instructions && again->constants.size() == p.constants.size() &&
              (p.constants.empty() || std::memcmp(again->constants.data(), p.constants.data(),
                                                  p.constants.size() * sizeof(double)) == 0),
          "a decoded program round-trips through ToProto/FromProto");
  const evolv::numerics::Program compact = evolv::numerics::Compact(p);
  Require(evolv::numerics::Validate(compact).ok(), "a compacted program validates");
  Require(evolv::numerics::Cost(compact) == evolv::numerics::Cost(p), "Compact keeps the cost");
  Require(evolv::numerics::LiveInstructions(compact) == evolv::numerics::LiveInstructions(p),
          "Compact keeps the live instructions");

  evolv::Rng rng(size);
  const evolv::v1::Candidate child = problem.Mutate(candidate, rng);
  Require(evolv::numerics::FromCandidate(child).ok(), "a mutated program decodes");
  if ((flags & 4) && !infeasible && p.instructions.size() <= 6 && p.constants.size() <= 4) {
    const evolv::v1::Evaluation evaluation = problem.Evaluate(candidate, evolv::EvalContext{});
    Require(evaluation.status() != evolv::v1::OK ||
                evaluation.objectives_size() == static_cast<int>(problem.ObjectiveNames().size()),
            "an OK evaluation has one value per objective");
  }
  return 0;
}
