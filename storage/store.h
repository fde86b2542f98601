// evolv::Store — the persistent state of an evolv server: job records, coordinator checkpoints,
// job histories and the functional-equivalence evaluation cache, in one RocksDB database.
//
// Thread-safety: a Store is safe for concurrent use from multiple threads without external
// synchronization (every method is; RocksDB provides the isolation). Each Commit is atomic;
// reads see either all or none of a Commit's rows.
//
// Process exclusivity: one process (one Store) per directory. A second Open of a directory that
// is open elsewhere, in this process or another, fails with FailedPrecondition.
//
// Errors: every method returns absl::Status / absl::StatusOr; nothing throws. Codes:
//   NotFound            the job, checkpoint or cache row does not exist
//   InvalidArgument     malformed input (empty job id, cache key not 16 bytes); nothing written
//   FailedPrecondition  Open: unknown schema version, not an evolv store, directory in use
//   DataLoss            a stored value does not parse, or RocksDB reports corruption; the message
//                       names the column family and the (escaped) key. Open: the write-ahead log
//                       (or another file) is damaged; the message names the damage and the way
//                       out (`evolv store verify`, StoreOptions::repair)
//   Unavailable / ResourceExhausted / Internal   I/O errors, disk full, other RocksDB errors
// Every message names the store directory.
//
// Durability: by default each write goes to the write-ahead log without fsync, so it survives
// the process being killed (kill -9) but not a machine crash; StoreOptions::durability changes
// that.
//
// Column families: "default" (unused), "meta", "jobs", "snapshots", "history", "evaluations";
// key encodings are in storage/key_encoding.h. The schema version (meta/"schema_version") is
// kSchemaVersion; a schema-1 store is upgraded in place when StoreOptions::schema_v1 says how
// (storage/schema_migration.h), and a store of any other version is refused, never modified.
//
// RocksDB tuning (chosen for the cache's random point lookups, hits and misses alike):
//   - one LRU block cache of StoreOptions::block_cache_bytes (64 MiB) shared by all column
//     families; index and filter blocks live in the table readers, outside it;
//   - a full Bloom filter, 10 bits per key (~1% false positives) on every SST, kept at every level
//     because cache misses are a normal, frequent lookup;
//   - data blocks with a hash index beside the binary index (kDataBlockBinaryAndHash), which
//     answers a point lookup inside a block without a binary search;
//   - a whole-key Bloom filter on the evaluations memtable, so a miss skips the memtable search;
//   - LZ4 compression, dynamic level sizes, and max_total_wal_size = 256 MiB so rarely written
//     column families (meta, jobs) are flushed and do not pin old WAL files.
#ifndef EVOLV_STORAGE_STORE_H_
#define EVOLV_STORAGE_STORE_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "evolv/v1/checkpoint.pb.h"
#include "evolv/v1/job.pb.h"
#include "storage/schema_migration.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class Env;
class WriteBatch;
}  // namespace rocksdb

namespace evolv {

// How far a write has gone when the writing method returns OK.
enum class Durability {
  kNoWal,    // memtable only; lost on any crash until Store::Flush. For bulk loads and benchmarks.
  kWal,      // write-ahead log, not fsynced: survives kill -9, not power loss. The default.
  kWalSync,  // write-ahead log, fsynced before returning: survives power loss.
};

struct StoreOptions {
  Durability durability = Durability::kWal;
  size_t block_cache_bytes = 64 << 20;
  // Where schema-1 stores kept each domain's messages (storage/schema_migration.h). When set,
  // Open upgrades a schema-1 store in place; when empty, such a store is refused unchanged.
  SchemaV1Fields schema_v1;
  // The RocksDB environment the store does its file I/O through; null: RocksDB's default. Tests
  // pass one over a file system that fails writes on command (tests/support/
  // write_fault_file_system.h). Must outlive the Store.
  std::shared_ptr<rocksdb::Env> env;
  // Integrity (docs/adr/0019-store-integrity.md). Open replays the write-ahead log strictly: a
  // torn last record (a crash mid-append) is dropped, but a damaged record anywhere else, or a
  // log the MANIFEST tracks that is missing or cut short, fails Open with DataLoss and changes
  // nothing. With `repair`, such a store is opened anyway: the log files are first copied to
  // DIR/repair-<unix ms>/, then the log is replayed up to the first damaged record (what follows
  // it is dropped), or, when column families already flushed past the damage make that
  // inconsistent, every intact record is replayed and the damaged ones are skipped (with the
  // rest of their 32 KiB log block).
  // Store::repair_report() says what was done. A store that is not damaged opens as usual.
  bool repair = false;
};

// The rows of one checkpoint, written together by Store::Commit.
struct CheckpointBatch {
  struct Snapshot {
    std::string job_id;
    v1::CoordinatorCheckpoint checkpoint;
  };
  struct HistoryRow {
    std::string job_id;
    v1::HistoryEntry entry;  // stored under entry.index(), replacing any row there
  };
  struct CacheRow {
    std::string key;  // 16 raw bytes: the 128-bit functional hash
    v1::CachedEvaluation value;
  };

  std::optional<v1::JobRecord> job;  // upserted under job->id()
  std::optional<Snapshot> snapshot;  // replaces the job's previous checkpoint
  std::vector<HistoryRow> history;
  std::vector<CacheRow> cache;  // replaces any row under the same key
};

class Store {
 public:
  static constexpr int kSchemaVersion = 2;

  // Opens the store in `dir`, creating the directory and an empty store if missing. Fails with
  // FailedPrecondition, leaving the directory untouched, when `dir` holds a store of another
  // schema version, holds something that is not an evolv store, or is open in another Store.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& dir,
                                                     const StoreOptions& options = {});

  // Closes the database; writes already acknowledged stay as durable as their Durability.
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::string& dir() const { return dir_; }

  // --- Jobs ---------------------------------------------------------------------------------

  // Inserts or replaces the record under job.id(). InvalidArgument when the id is empty.
  absl::Status PutJob(const v1::JobRecord& job);
  // NotFound when no job has this id.
  absl::StatusOr<v1::JobRecord> GetJob(std::string_view job_id) const;
  // Every job, ordered by created_unix_ms, then id.
  absl::StatusOr<std::vector<v1::JobRecord>> ListJobs() const;
  // Removes the job's record, checkpoint and history in one atomic write. Cache rows stay: they
  // are shared across jobs. OK whether or not the job existed.
  absl::Status DeleteJob(std::string_view job_id);

  // --- Checkpoints --------------------------------------------------------------------------

  // Writes every row of `batch` as one atomic RocksDB WriteBatch: after a crash either all rows
  // are there or none. The whole batch is validated first; on InvalidArgument nothing is written.
  absl::Status Commit(const CheckpointBatch& batch);
  // The job's last committed checkpoint; NotFound when it has none.
  absl::StatusOr<v1::CoordinatorCheckpoint> GetCheckpoint(std::string_view job_id) const;

  // --- History ------------------------------------------------------------------------------

  // Up to `limit` rows of the job's history with index >= from_index, in index order. An unknown
  // job has an empty history.
  absl::StatusOr<std::vector<v1::HistoryEntry>> ReadHistory(
      std::string_view job_id, uint64_t from_index = 0,
      size_t limit = std::numeric_limits<size_t>::max()) const;
  // Number of history rows of the job. Scans them: O(rows).
  absl::StatusOr<uint64_t> CountHistory(std::string_view job_id) const;
  // The k best rows of the job's history by evaluation.objectives(objective_index) (minimized),
  // best first, ties by lower index. Only rows with status OK and a non-NaN value at
  // objective_index count. Scans the job's history: O(rows log k).
  absl::StatusOr<std::vector<v1::HistoryEntry>> QueryTopByJob(std::string_view job_id,
                                                              int objective_index, size_t k) const;
  // The same with each key (HistoryEntry.key) counted once, by its best row: the best rows of
  // the k best distinct keys, best first. One scan: O(rows log k).
  absl::StatusOr<std::vector<v1::HistoryEntry>> QueryTopKeysByJob(std::string_view job_id,
                                                                  int objective_index,
                                                                  size_t k) const;

  // --- Evaluation cache ---------------------------------------------------------------------

  // The row under the 16-byte `key`; NotFound when absent, InvalidArgument when key is not 16
  // bytes.
  absl::StatusOr<v1::CachedEvaluation> GetEvaluation(std::string_view key) const;
  // One batched lookup: result[i] is the row under keys[i], or nullopt when absent.
  absl::StatusOr<std::vector<std::optional<v1::CachedEvaluation>>> GetEvaluations(
      const std::vector<std::string>& keys) const;
  // Number of cache rows. Scans them: O(rows).
  absl::StatusOr<uint64_t> CountEvaluations() const;

  // --- Maintenance --------------------------------------------------------------------------

  // Writes every memtable to SST files and waits; afterwards kNoWal writes are durable too.
  absl::Status Flush();

  // --- Write errors (a full disk) -------------------------------------------------------------
  //
  // A write that fails for want of space or on an I/O error answers ResourceExhausted or
  // Unavailable; RocksDB then refuses every further write (it holds a "background error") while
  // reads keep working. The store turns RocksDB's automatic recovery off (it would retry on the
  // still-full disk and make the error permanent until a reopen) and writes RocksDB's info log
  // through a logger that drops lines it cannot write (RocksDB's own aborts the process there:
  // docs/adr/0020-store-write-errors.md). Writes work again only after RecoverWrites succeeded.

  // OK when the store accepts writes: when RocksDB holds a background error, first checks that
  // the file system takes a synced scratch file in the store's directory, then DB::Resume();
  // then writes a tiny synced probe row to "meta". Otherwise the error, naming the store
  // (ResourceExhausted while the disk is full). Cheap when writes work (one small synced write);
  // safe to call at any time, from any thread.
  absl::Status RecoverWrites();

  // --- Integrity ------------------------------------------------------------------------------

  // What an Open with StoreOptions::repair did to a damaged store, one line per fact (what was
  // damaged, where the copies of the log files are, what RocksDB dropped); empty when the store
  // was not damaged or was opened without `repair`.
  const std::vector<std::string>& repair_report() const { return repair_report_; }

 private:
  Store(std::string dir, const StoreOptions& options);
  absl::Status Write(rocksdb::WriteBatch* batch);
  // QueryTopByJob, or with `distinct_keys` QueryTopKeysByJob.
  absl::StatusOr<std::vector<v1::HistoryEntry>> TopOfHistory(std::string_view job_id,
                                                             int objective_index, size_t k,
                                                             bool distinct_keys) const;
  // Upgrades a schema-1 store in place (see storage/schema_migration.h).
  absl::Status UpgradeFromV1();

  std::string dir_;
  StoreOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned; destroyed before db_ closes
  rocksdb::ColumnFamilyHandle* meta_ = nullptr;
  rocksdb::ColumnFamilyHandle* jobs_ = nullptr;
  rocksdb::ColumnFamilyHandle* snapshots_ = nullptr;
  rocksdb::ColumnFamilyHandle* history_ = nullptr;
  rocksdb::ColumnFamilyHandle* evaluations_ = nullptr;
  std::vector<std::string> repair_report_;
};

}  // namespace evolv

#endif  // EVOLV_STORAGE_STORE_H_
