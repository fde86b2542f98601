#include "search/functional_hash.h"

#include <xxhash.h>

#include <initializer_list>

#include "search/rng.h"

namespace evolv {
namespace {

void AppendBigEndian(uint64_t v, std::string* out) {
  for (int shift = 56; shift >= 0; shift -= 8) out->push_back(static_cast<char>(v >> shift));
}

uint64_t ReadBigEndian(std::string_view bytes) {
  uint64_t v = 0;
  for (char c : bytes) v = (v << 8) | static_cast<unsigned char>(c);
  return v;
}

void UpdateWithLength(XXH3_state_t* state, std::string_view part) {
  // Length-prefixed so that ("ab", "c") and ("a", "bc") hash differently.
  const uint64_t size = part.size();
  XXH3_128bits_update(state, &size, sizeof(size));
  XXH3_128bits_update(state, part.data(), part.size());
}

// xxh3-128 of the length-prefixed parts, in order.
CacheKey HashParts(std::initializer_list<std::string_view> parts) {
  XXH3_state_t* state = XXH3_createState();
  XXH3_128bits_reset(state);
  for (std::string_view part : parts) UpdateWithLength(state, part);
  const XXH128_hash_t h = XXH3_128bits_digest(state);
  XXH3_freeState(state);
  return CacheKey{h.high64, h.low64};
}

}  // namespace

std::string CacheKey::Bytes() const {
  std::string out;
  out.reserve(16);
  AppendBigEndian(high, &out);
  AppendBigEndian(low, &out);
  return out;
}

std::string CacheKey::Hex() const {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : Bytes()) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

bool CacheKey::FromBytes(std::string_view bytes, CacheKey* key) {
  if (bytes.size() != 16) return false;
  key->high = ReadBigEndian(bytes.substr(0, 8));
  key->low = ReadBigEndian(bytes.substr(8, 8));
  return true;
}

bool CacheKey::FromHex(std::string_view hex, CacheKey* key) {
  if (hex.size() != 32) return false;
  std::string bytes;
  for (size_t i = 0; i < 32; i += 2) {
    int v = 0;
    for (size_t j = i; j < i + 2; ++j) {
      const char c = hex[j];
      int d;
      if (c >= '0' && c <= '9') {
        d = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        d = c - 'a' + 10;
      } else if (c >= 'A' && c <= 'F') {
        d = c - 'A' + 10;
      } else {
        return false;
      }
      v = v * 16 + d;
    }
    bytes.push_back(static_cast<char>(v));
  }
  return FromBytes(bytes, key);
}

CacheKey FunctionalKey(std::string_view domain, std::string_view version,
                       std::string_view canonical_spec, std::string_view probe) {
  return HashParts({domain, version, canonical_spec, probe});
}

CacheKey FunctionalKey(const Problem& problem, const v1::Candidate& candidate) {
  return FunctionalKey(problem.Domain(), problem.EvaluatorVersion(), problem.CanonicalSpec(),
                       problem.Probe(candidate));
}

std::string ProblemFingerprint(std::string_view domain, std::string_view version,
                               std::string_view canonical_spec, std::string_view inputs_digest) {
  if (inputs_digest.empty()) return HashParts({domain, version, canonical_spec}).Hex();
  return HashParts({domain, version, canonical_spec, inputs_digest}).Hex();
}

std::string ProblemFingerprint(const Problem& problem) {
  return ProblemFingerprint(problem.Domain(), problem.EvaluatorVersion(), problem.CanonicalSpec(),
                            problem.InputsDigest());
}

uint64_t EvaluationSeed(const CacheKey& key, uint32_t repeat) {
  return Mix64(key.high ^ Mix64(key.low + 0x9e3779b97f4a7c15ULL * (repeat + 1)));
}

}  // namespace evolv
