// evolv::VerifyStore — a full check of a store directory: the write-ahead log, the checksum of
// every block of every SST file, and every row parsed as its message type
// (docs/adr/0019-store-integrity.md). `evolv store verify --data-dir DIR` prints its report.
#ifndef EVOLV_STORAGE_STORE_VERIFY_H_
#define EVOLV_STORAGE_STORE_VERIFY_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace evolv {

struct StoreVerification {
  std::string dir;
  size_t wal_files = 0;  // write-ahead log files replayed
  uint64_t wal_bytes = 0;
  size_t sst_files = 0;  // SST files whose every block checksum was verified
  uint64_t sst_bytes = 0;
  uint64_t rows = 0;  // rows read (and parsed, in evolv's column families)
  // One line per damaged thing, naming it: a log or SST file (with RocksDB's words), or a row
  // by column family and escaped key. Empty when the store is intact.
  std::vector<std::string> damage;

  bool clean() const { return damage.empty(); }
};

// Checks the store in `dir` and reports what is damaged. Reads only: the store is opened
// read-only, without its lock, so this works while evolvd (or `evolv run`) has it open; a file
// compacted away meanwhile is skipped, and rows written meanwhile may or may not be seen.
//   - the write-ahead log is replayed as Store::Open replays it (a torn last record is fine;
//     a damaged record before it, or a tracked log missing or cut short, is damage); on damage
//     the rest is still checked, on the log replayed up to the damage;
//   - every live SST file is read whole and each block's checksum verified, file by file, so
//     every damaged file is named;
//   - every row of "meta", "jobs", "snapshots", "history" and "evaluations" must parse as its
//     message type (history keys must match the row's index, cache keys be 16 bytes); at most
//     20 bad rows are listed per column family, the rest counted.
// Errors (not damage): NotFound when `dir` holds no store (no CURRENT file), FailedPrecondition
// when it is a RocksDB database but not an evolv store. A damaged MANIFEST is damage: the report
// then names it and checks nothing else.
absl::StatusOr<StoreVerification> VerifyStore(const std::string& dir);

}  // namespace evolv

#endif  // EVOLV_STORAGE_STORE_VERIFY_H_
