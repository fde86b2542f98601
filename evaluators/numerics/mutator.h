// The numerics search's mutations (AutoNumerics-Zero): one child of a straight-line program.
//
// Every mutation keeps the program valid and, since dead code is dropped first, touches the
// function: growing the result (r op z), growing an inner value on one edge (Horner-like
// nesting), sharing x*x, mirroring the result into a quotient (P(x)/P(-x) forms), rewiring,
// op changes, removals and constant restarts. Constants are refitted by evaluation, so most
// mutations change structure; new constants are standard normal draws (the fit's start).
//
// A Mutator's choices are a pure function of (parent, Rng state): the draws and their order are
// part of every numerics job's history, so changing them changes histories. Immutable after
// construction; const methods are thread-safe (each caller brings its own Rng).
#pragma once

#include <cstdint>
#include <vector>

#include "evaluators/numerics/program.h"
#include "search/rng.h"

namespace evolv::numerics {

class Mutator {
 public:
  // `ops`: the ops a child may use (non-empty); `max_ops`: the largest cost (see Cost) a child
  // should have.
  Mutator(std::vector<Op> ops, int max_ops);

  // One child of `parent`. A child over max_ops would only be rejected, so up to 8 mutations
  // are tried in turn (deterministically, from `rng`); when every try is over budget, the child
  // is the parent, compacted, with one constant restarted. Over-long parents (more than
  // 4 max_ops + 8 instructions or 32 constants) are compacted first. The child's cost is within
  // max_ops whenever the parent's is.
  Program Mutate(const Program& parent, Rng& rng) const;

  // One mutation of `p` (compacted first), whatever its cost.
  void MutateInPlace(Program& p, Rng& rng) const;

  // Operand helpers, exposed for tests. An operand for an instruction placed before value
  // `limit`: x with probability 0.35 (always when limit <= 1), a constant, else an earlier
  // instruction's value by a geometric walk back from the most recent. Always < limit.
  uint32_t RandomOperand(const Program& p, uint32_t limit, Rng& rng) const;
  // A second operand for a new instruction before value `*limit` combining with value `*v`:
  // `*v` itself (squaring, doubling), x, a new constant, or a RandomOperand. A new constant
  // renumbers the instruction values, so `*v` and `*limit` are updated to match.
  uint32_t Partner(Program& p, uint32_t* v, uint32_t* limit, Rng& rng) const;

 private:
  Op RandomOp(Rng& rng) const;
  // `preferred` when the job allows it, else a random allowed op.
  Op OpOr(Op preferred, Rng& rng) const;

  std::vector<Op> ops_;
  int max_ops_;
};

}  // namespace evolv::numerics
