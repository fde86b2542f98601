// Functional hashing (Unified Functional Hashing, AutoML-Zero): a candidate's cache key is a
// 128-bit xxh3 hash of (domain, evaluator version, canonical problem spec, quantized probe
// outputs), so candidates
// that compute the same function on the probe inputs share a key on purpose, while the spec in
// the key keeps different targets and datasets apart.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "search/problem.h"

namespace evolv {

struct CacheKey {
  uint64_t high = 0;
  uint64_t low = 0;

  // 16 bytes, big-endian high then low: the storage key.
  std::string Bytes() const;
  // 32 lowercase hex digits.
  std::string Hex() const;
  // Parses Bytes() output; false when `bytes` is not 16 bytes long.
  static bool FromBytes(std::string_view bytes, CacheKey* key);
  // Parses Hex() output; false on anything but 32 hex digits.
  static bool FromHex(std::string_view hex, CacheKey* key);

  bool operator==(const CacheKey& o) const { return high == o.high && low == o.low; }
  bool operator!=(const CacheKey& o) const { return !(*this == o); }
  bool operator<(const CacheKey& o) const { return high != o.high ? high < o.high : low < o.low; }
};

struct CacheKeyHasher {
  size_t operator()(const CacheKey& k) const { return static_cast<size_t>(k.low ^ k.high); }
};

// The key of raw probe bytes under a problem's domain, evaluator version and canonical spec.
CacheKey FunctionalKey(std::string_view domain, std::string_view version,
                       std::string_view canonical_spec, std::string_view probe);

// The key of `candidate` under `problem` (runs Problem::Probe).
CacheKey FunctionalKey(const Problem& problem, const v1::Candidate& candidate);

// The problem's fingerprint: 32 lowercase hex digits of the xxh3-128 hash of (domain, evaluator
// version, canonical spec), the part of every functional key that the problem alone decides,
// and of its inputs digest (Problem::InputsDigest) as a fourth part when that is not empty; the
// fingerprint of a problem that reads no files is the hash of the three parts alone. Two problems
// with one fingerprint give one key to one probe and read the same content. Workers compare the
// fingerprint of the problem they built with the coordinator's before evaluating
// (actors/worker.h), so a worker of another evaluator version, or whose copy of a file the spec
// names differs (a file the canonical spec hashes, or one the inputs digest covers), cannot have
// its result stored under the coordinator's key.
std::string ProblemFingerprint(std::string_view domain, std::string_view version,
                               std::string_view canonical_spec,
                               std::string_view inputs_digest = {});
std::string ProblemFingerprint(const Problem& problem);

// The evaluation seed for the `repeat`-th evaluation of a key: a function of the key only, so an
// evaluation is the same on every worker.
uint64_t EvaluationSeed(const CacheKey& key, uint32_t repeat);

}  // namespace evolv
