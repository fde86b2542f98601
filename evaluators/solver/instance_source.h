// Instance sources for the solver problem: instance t of a sequence of linear systems, built in
// any order, on any thread, always the same.
//
//   shifted Laplacian  instance t is drawn from (seed, t) alone; built on demand, never stored.
//   heat equation      inherently sequential: the states u^t are generated once, lazily, behind
//                      a mutex, and shared by every source of the same (nx, dt) in the process
//                      (the coordinator's problem and each worker's), n doubles per step.
//   Matrix Market      every file is read and validated when the source is opened, kept in
//                      memory, and shared like the heat states while any problem holds it.
//
// Thread-safety: every method is const and safe to call concurrently.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "evaluators/solver/sor.h"
#include "evolv/v1/solver.pb.h"

namespace evolv {

struct SolverInstance {
  RelaxationSolver solver;
  Eigen::VectorXd b;
  Eigen::VectorXd x0;  // warm start; empty means zero
  double context = 0.0;
};

// InvalidArgument "solver.FIELD: REASON": the shape of every bad-spec error of the solver domain.
absl::Status SolverFieldError(const std::string& field, const std::string& reason);

class InstanceSource {
 public:
  virtual ~InstanceSource() = default;
  // T, the number of instances.
  virtual uint64_t size() const = 0;
  // The context of instance t < size(), cheap (no solve, no file read).
  virtual double Context(uint64_t t) const = 0;
  virtual std::pair<double, double> ContextRange() const = 0;
  // Instance t < size(). Errors (a file gone bad) name the file.
  virtual absl::StatusOr<std::shared_ptr<const SolverInstance>> Get(uint64_t t) const = 0;
  // Bytes that identify what instance t (< size()) means: its content, not its path or the
  // length of the sequence. Part of every functional key of a solve of instance t, so the cache
  // keeps instances apart, and adding a file to a Matrix Market directory changes no other
  // instance's key.
  virtual std::string InstanceKey(uint64_t t) const = 0;
  // One line for the report, e.g. "shifted Laplacian (high variance, 10x10 grid, seed 1)".
  virtual std::string Describe() const = 0;
  // The Jacobi spectral radius of instance t where it is known in closed form.
  virtual std::optional<double> JacobiRadius(uint64_t t) const {
    (void)t;
    return std::nullopt;
  }
};

// Validates `spec`'s source and opens it. InvalidArgument whose message starts with the field
// path, e.g. "solver.heat.nx: must be >= 1" or "solver.matrix_market.dir: DIR/A_0003.mtx:7: ...".
absl::StatusOr<std::shared_ptr<const InstanceSource>> OpenInstanceSource(
    const v1::SolverSpec& spec);

}  // namespace evolv
