// A small, fast, serializable random number generator (xoshiro256**).
//
// Every random choice in a search goes through an Rng so that a job is a pure function of its
// spec and seed: the state is four words, saved in checkpoints and restored exactly. The
// distributions are implemented here (not std::*_distribution, whose output differs between
// standard libraries), so a history is reproducible across builds.
//
// Not thread-safe: one Rng per owner.
#pragma once

#include <array>
#include <cstdint>

#include "evolv/v1/checkpoint.pb.h"

namespace evolv {

class Rng {
 public:
  // Seeds the state by running splitmix64 from `seed`; any seed (0 included) is valid.
  explicit Rng(uint64_t seed = 0);

  uint64_t Next();
  // Uniform in [0, 1).
  double Uniform();
  // Uniform in [lo, hi).
  double Uniform(double lo, double hi);
  // Uniform integer in [0, n); n must be > 0.
  uint64_t Below(uint64_t n);
  // True with probability p.
  bool Bernoulli(double p);
  // Standard normal (Box-Muller, no cached spare, so the state stays four words).
  double Normal();

  // A child generator whose stream is independent of this one's; advances this one.
  Rng Split();

  v1::RngState Save() const;
  // Fails (returns false, state unchanged) when `state` does not hold exactly four words.
  bool Restore(const v1::RngState& state);

  bool operator==(const Rng& other) const { return s_ == other.s_; }

 private:
  std::array<uint64_t, 4> s_;
};

// Mixes a 64-bit value (splitmix64 finalizer); used to derive seeds from keys and indices.
uint64_t Mix64(uint64_t x);

}  // namespace evolv
