// evolv::storage_internal — how a store's write-ahead log is replayed when it is opened, shared
// by Store::Open (storage/store.cc) and VerifyStore (storage/store_verify.cc) so that a store
// verifies as it opens (docs/adr/0019-store-integrity.md). Not part of the store's interface.
#ifndef EVOLV_STORAGE_WAL_REPLAY_H_
#define EVOLV_STORAGE_WAL_REPLAY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "rocksdb/options.h"
#include "storage/key_encoding.h"

namespace evolv::storage_internal {

enum class WalReplay {
  // A torn last record (a crash mid-append) is dropped; a damaged record anywhere else, or a log
  // the MANIFEST tracks (a closed, synced one) that is missing or cut short, fails the open.
  kStrict,
  // StoreOptions::repair, first try: replays up to the first damaged record, drops the rest.
  kToTheDamage,
  // StoreOptions::repair, second try, when column families flushed past the damage make
  // kToTheDamage inconsistent: replays every intact record, skips the damaged ones.
  kSkipDamaged,
};

inline void SetWalReplay(WalReplay replay, rocksdb::DBOptions* options) {
  options->paranoid_checks = true;
  options->track_and_verify_wals_in_manifest = replay == WalReplay::kStrict;
  switch (replay) {
    case WalReplay::kStrict:
      options->wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
      break;
    case WalReplay::kToTheDamage:
      options->wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
      break;
    case WalReplay::kSkipDamaged:
      options->wal_recovery_mode = rocksdb::WALRecoveryMode::kSkipAnyCorruptedRecords;
      break;
  }
}

// The options of a read-only open replaying as `replay`, RocksDB's info log going to `info_log`.
// Log tracking stays on whatever the replay: RocksDB 7.8 aborts (an assertion in
// DBImpl::Recover) when a read-only open without it meets a MANIFEST that tracks write-ahead logs.
inline rocksdb::Options ReadOnlyOptions(WalReplay replay,
                                        std::shared_ptr<rocksdb::Logger> info_log) {
  rocksdb::Options options;
  SetWalReplay(replay, &options);
  options.track_and_verify_wals_in_manifest = true;
  options.info_log = std::move(info_log);
  return options;
}

// FailedPrecondition for a RocksDB database in `dir` without evolv's "meta" column family.
inline absl::Status NotAnEvolvStore(const std::string& dir,
                                    const std::vector<std::string>& families) {
  return absl::FailedPreconditionError(
      absl::StrCat("store at ", dir, " is a RocksDB database but not an evolv store (no \"",
                   storage_keys::kMetaColumnFamily,
                   "\" column family; has: ", absl::StrJoin(families, ", "), ")"));
}

}  // namespace evolv::storage_internal

#endif  // EVOLV_STORAGE_WAL_REPLAY_H_
