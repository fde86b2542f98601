// Key encodings of the evolv store's column families. Internal to storage/ (and its tests): the
// rest of evolv talks to evolv::Store, never to these bytes.
//
//   meta         "schema_version"                      -> decimal ASCII, e.g. "1"
//   jobs         job_id                                -> JobRecord
//   snapshots    job_id                                -> CoordinatorCheckpoint
//   history      u32be(len(job_id)) job_id u64be(index) -> HistoryEntry
//   evaluations  16 raw bytes (128-bit functional hash) -> CachedEvaluation
//
// History keys are length-prefixed so that no job's rows can fall inside another job's range
// (job "a" vs job "ab", or ids containing '\0'), and the index is big-endian so that RocksDB's
// bytewise order is index order.
#ifndef EVOLV_STORAGE_KEY_ENCODING_H_
#define EVOLV_STORAGE_KEY_ENCODING_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace evolv::storage_keys {

inline constexpr char kMetaColumnFamily[] = "meta";
inline constexpr char kJobsColumnFamily[] = "jobs";
inline constexpr char kSnapshotsColumnFamily[] = "snapshots";
inline constexpr char kHistoryColumnFamily[] = "history";
inline constexpr char kEvaluationsColumnFamily[] = "evaluations";
inline constexpr char kSchemaVersionKey[] = "schema_version";

inline constexpr size_t kCacheKeySize = 16;

// The key of row `index` of `job_id`'s history.
std::string HistoryKey(std::string_view job_id, uint64_t index);

// [HistoryBegin(job), HistoryEnd(job)) holds exactly the history rows of `job_id`.
std::string HistoryBegin(std::string_view job_id);
std::string HistoryEnd(std::string_view job_id);

// Splits a history key. Returns false when `key` is not a well-formed history key.
bool ParseHistoryKey(std::string_view key, std::string_view* job_id, uint64_t* index);

// `key` escaped for an error message (C escapes, non-printable bytes as \xNN).
std::string PrintableKey(std::string_view key);

}  // namespace evolv::storage_keys

#endif  // EVOLV_STORAGE_KEY_ENCODING_H_
