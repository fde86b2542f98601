#include "storage/store.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <set>
#include <system_error>
#include <unordered_map>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/listener.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/write_batch.h"
#include "storage/damage_logger.h"
#include "storage/key_encoding.h"
#include "storage/wal_replay.h"

namespace evolv {
namespace {

namespace keys = storage_keys;

absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }
rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

// Converts a RocksDB error into the store's error type, naming the store and the operation.
absl::Status FromRocks(const rocksdb::Status& s, const std::string& dir, std::string_view what) {
  absl::StatusCode code = absl::StatusCode::kInternal;
  if (s.IsNotFound()) {
    code = absl::StatusCode::kNotFound;
  } else if (s.IsCorruption()) {
    code = absl::StatusCode::kDataLoss;
  } else if (s.IsNoSpace()) {
    code = absl::StatusCode::kResourceExhausted;
  } else if (s.IsIOError() || s.IsBusy() || s.IsTimedOut() || s.IsTryAgain()) {
    code = absl::StatusCode::kUnavailable;
  } else if (s.IsInvalidArgument()) {
    code = absl::StatusCode::kInvalidArgument;
  }
  return absl::Status(code, absl::StrCat("store at ", dir, ": ", AV(what), ": ", s.ToString()));
}

template <typename Message>
absl::Status ParseValue(const rocksdb::Slice& value, const char* column_family,
                        std::string_view key, const std::string& dir, Message* out) {
  if (value.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !out->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return absl::DataLossError(absl::StrCat("store at ", dir, ": value of ", column_family, "/\"",
                                            keys::PrintableKey(key), "\" (", value.size(),
                                            " bytes) does not parse as ", out->GetTypeName()));
  }
  return absl::OkStatus();
}

absl::Status CheckCacheKey(std::string_view key) {
  if (key.size() != keys::kCacheKeySize) {
    return absl::InvalidArgumentError(absl::StrCat("cache key must be ", keys::kCacheKeySize,
                                                   " bytes, got ", key.size(), " (\"",
                                                   keys::PrintableKey(key), "\")"));
  }
  return absl::OkStatus();
}

absl::Status CheckJobId(std::string_view job_id, std::string_view what) {
  if (job_id.empty()) return absl::InvalidArgumentError(absl::StrCat(AV(what), ": empty job id"));
  return absl::OkStatus();
}

absl::Status VersionMismatch(const std::string& dir, std::string_view stored) {
  return absl::FailedPreconditionError(absl::StrCat("store at ", dir, " has schema version ",
                                                    AV(stored), "; this evolv reads version ",
                                                    Store::kSchemaVersion));
}

rocksdb::ColumnFamilyOptions TunedColumnFamilyOptions(const std::shared_ptr<rocksdb::Cache>& cache,
                                                      bool point_lookups) {
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.whole_key_filtering = true;
  table.data_block_index_type = rocksdb::BlockBasedTableOptions::kDataBlockBinaryAndHash;
  table.data_block_hash_table_util_ratio = 0.75;
  table.format_version = 5;

  rocksdb::ColumnFamilyOptions cf;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf.compression = rocksdb::kLZ4Compression;
  cf.level_compaction_dynamic_level_bytes = true;
  if (point_lookups) {
    cf.memtable_whole_key_filtering = true;
    cf.memtable_prefix_bloom_size_ratio = 0.02;
  }
  return cf;
}

// --- Integrity (docs/adr/0019-store-integrity.md) ------------------------------------------------

using storage_internal::DamageLogger;
using storage_internal::SetWalReplay;
using storage_internal::WalReplay;

// The message of an Open refused because `dir` is damaged: RocksDB's words (in `status`), the
// info log's lines about it, and the way out.
absl::Status DamagedStoreError(const std::string& dir, const absl::Status& status,
                               const std::vector<std::string>& log_lines) {
  std::string details;
  for (const auto& line : log_lines) absl::StrAppend(&details, "; ", line);
  return absl::DataLossError(absl::StrCat(
      "store at ", dir,
      " is damaged: ", absl::StripPrefix(status.message(), absl::StrCat("store at ", dir, ": ")),
      details, ". Nothing was changed. Run `evolv store verify --data-dir ", dir,
      "` to see what is damaged; `evolvd --repair` (or `evolv run --repair`) opens it anyway by "
      "replaying the write-ahead log up to the damage and dropping what follows (copies of the "
      "log files are kept in ",
      dir, "/repair-<time>/; docs/adr/0019-store-integrity.md)"));
}

// Copies every write-ahead log file (*.log) of `dir` into a new dir/repair-<unix ms>/ before a
// repair drops any of it; returns that directory.
absl::StatusOr<std::string> KeepWriteAheadLogs(const std::string& dir) {
  namespace fs = std::filesystem;
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  const fs::path keep = fs::path(dir) / absl::StrCat("repair-", now_ms);
  std::error_code ec;
  fs::create_directories(keep, ec);
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() != ".log" || !it->is_regular_file()) continue;
    fs::copy_file(it->path(), keep / it->path().filename(), ec);
    if (ec) {
      return absl::UnavailableError(absl::StrCat("store at ", dir, ": --repair: cannot copy ",
                                                 it->path().string(), " to ", keep.string(), ": ",
                                                 ec.message(), "; nothing was changed"));
    }
  }
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("store at ", dir, ": --repair: cannot keep the log files in ", keep.string(),
                     ": ", ec.message(), "; nothing was changed"));
  }
  return keep.string();
}

// Reads meta/schema_version without taking the store's lock or writing anything to `dir`,
// replaying the write-ahead log as `replay` says; RocksDB's info log goes to `info_log`.
// Returns nullopt when the key is absent.
absl::StatusOr<std::optional<std::string>> ProbeSchemaVersion(
    const std::string& dir, WalReplay replay, const std::shared_ptr<rocksdb::Logger>& info_log) {
  const rocksdb::Options options = storage_internal::ReadOnlyOptions(replay, info_log);
  std::vector<rocksdb::ColumnFamilyDescriptor> families = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions()},
      {keys::kMetaColumnFamily, rocksdb::ColumnFamilyOptions()}};
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::OpenForReadOnly(options, dir, families, &handles, &raw);
  if (!s.ok()) return FromRocks(s, dir, "cannot open it read-only");
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string value;
  s = db->Get(rocksdb::ReadOptions(), handles[1], keys::kSchemaVersionKey, &value);
  for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, dir, "cannot read the schema version");
  return std::optional<std::string>(std::move(value));
}

// The store's info log (RocksDB's LOG file), written through the store's file system, where a
// failed write only loses its line. RocksDB's own file logger appends through a
// WritableFileWriter, which asserts that nothing is appended after a failed append; Debian builds
// RocksDB with assertions on, so on a full disk the first log line after a lost one aborted the
// process (docs/adr/0020-store-write-errors.md). A logger whose file cannot be made drops every
// line.
class TolerantInfoLog : public rocksdb::Logger {
 public:
  // Keeps a previous LOG as LOG.old.<unix micros>, as RocksDB does (keep_log_file_num prunes
  // them), and starts a new one.
  static std::shared_ptr<rocksdb::Logger> Open(rocksdb::Env* env, const std::string& dir) {
    const std::string path = dir + "/LOG";
    if (env->FileExists(path).ok()) {
      env->RenameFile(path, absl::StrCat(path, ".old.", env->NowMicros())).PermitUncheckedError();
    }
    std::unique_ptr<rocksdb::FSWritableFile> file;
    env->GetFileSystem()
        ->NewWritableFile(path, rocksdb::FileOptions(), &file, nullptr)
        .PermitUncheckedError();
    return std::make_shared<TolerantInfoLog>(std::move(file));
  }

  explicit TolerantInfoLog(std::unique_ptr<rocksdb::FSWritableFile> file)
      : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL), file_(std::move(file)) {}
  ~TolerantInfoLog() override { CloseImpl().PermitUncheckedError(); }

  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    char line[2048];
    const auto now = std::chrono::system_clock::now();
    const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    const long micros = static_cast<long>(
        std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
        1000000);
    std::tm t;
    localtime_r(&seconds, &t);
    int n =
        std::snprintf(line, sizeof(line), "%04d/%02d/%02d-%02d:%02d:%02d.%06ld ", t.tm_year + 1900,
                      t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, micros);
    if (n < 0) return;
    const int body = std::vsnprintf(line + n, sizeof(line) - n - 1, format, ap);
    if (body < 0) return;
    n = std::min<int>(n + body, sizeof(line) - 2);
    if (line[n - 1] != '\n') line[n++] = '\n';
    std::lock_guard<std::mutex> lock(mutex_);
    if (file_ == nullptr) return;
    rocksdb::IOOptions io;
    file_->Append(rocksdb::Slice(line, n), io, nullptr).PermitUncheckedError();
    file_->Flush(io, nullptr).PermitUncheckedError();
  }

 protected:
  rocksdb::Status CloseImpl() override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (file_ == nullptr) return rocksdb::Status::OK();
    rocksdb::IOStatus s = file_->Close(rocksdb::IOOptions(), nullptr);
    file_.reset();
    return s;
  }

 private:
  std::mutex mutex_;
  std::unique_ptr<rocksdb::FSWritableFile> file_;  // null once closed, or when it could not open
};

// Turns RocksDB's automatic recovery from a background error off: the store recovers only in
// RecoverWrites, once the file system takes writes again. RocksDB's own recovery starts at once
// (its SstFileManager sees free space when the disk is not the one that failed, or space freed a
// moment later), fails on the still-refusing disk while switching the write-ahead log, and so
// turns the error fatal: writes would then stay refused until the store is reopened.
class NoAutomaticRecovery : public rocksdb::EventListener {
 public:
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status bg_error,
                            bool* auto_recovery) override {
    bg_error.PermitUncheckedError();
    *auto_recovery = false;
  }
};

// RecoverWrites' probes: a scratch file of kWriteProbeBytes (about a checkpoint's size) in the
// store's directory, then an empty row under meta/kWriteProbeKey.
constexpr char kWriteProbeKey[] = "write_probe";
constexpr size_t kWriteProbeBytes = 64 << 10;

bool IsLockError(const rocksdb::Status& s) {
  return s.IsIOError() && absl::StrContains(s.ToString(), "/LOCK");
}

}  // namespace

Store::Store(std::string dir, const StoreOptions& options)
    : dir_(std::move(dir)), options_(options) {}

Store::~Store() {
  if (db_ == nullptr) return;
  for (auto* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
  db_->Close().PermitUncheckedError();
}

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& dir,
                                                   const StoreOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("store at ", dir,
                     ": cannot create the directory: ", ec ? ec.message() : "not a directory"));
  }

  // Inspect an existing directory read-only first: a store this evolv cannot read must be left
  // exactly as it was, and a read-write open already rewrites the MANIFEST and OPTIONS files.
  std::vector<std::string> existing;
  // How the read-write open replays the log: the first that opens (a repair falls back).
  std::vector<WalReplay> replays = {WalReplay::kStrict};
  std::vector<std::string> repair_report;
  const bool has_db = fs::exists(fs::path(dir) / "CURRENT", ec);
  if (has_db) {
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &existing);
    if (!s.ok()) {
      absl::Status status = FromRocks(s, dir, "not a readable RocksDB database");
      if (!absl::IsDataLoss(status)) {
        status = absl::FailedPreconditionError(status.message());
      }
      return status;
    }
    if (std::find(existing.begin(), existing.end(), keys::kMetaColumnFamily) == existing.end()) {
      return storage_internal::NotAnEvolvStore(dir, existing);
    }
    auto damage_log = std::make_shared<DamageLogger>();
    absl::StatusOr<std::optional<std::string>> version =
        ProbeSchemaVersion(dir, WalReplay::kStrict, damage_log);
    if (absl::IsDataLoss(version.status())) {
      if (!options.repair) return DamagedStoreError(dir, version.status(), damage_log->lines());
      // Repair: find the first replay that opens, read-only, before anything is changed.
      repair_report.push_back(absl::StrCat(
          "damaged: ",
          absl::StripPrefix(version.status().message(), absl::StrCat("store at ", dir, ": "))));
      const absl::Status strict_failure = version.status();
      for (WalReplay replay : {WalReplay::kToTheDamage, WalReplay::kSkipDamaged}) {
        damage_log = std::make_shared<DamageLogger>();
        version = ProbeSchemaVersion(dir, replay, damage_log);
        if (!absl::IsDataLoss(version.status())) {
          replays = {replay, WalReplay::kSkipDamaged};
          break;
        }
      }
      // A tracked log that is missing or cut short fails every read-only probe (they must track
      // logs); only the read-write open, which stops tracking, gets past it. The schema version
      // is then checked after that open.
      const bool tracked_log_damaged =
          absl::IsDataLoss(version.status()) &&
          (absl::StrContains(version.status().message(), "Missing WAL") ||
           absl::StrContains(version.status().message(), "Size mismatch: WAL"));
      if (tracked_log_damaged) {
        replays = {WalReplay::kToTheDamage, WalReplay::kSkipDamaged};
        version = std::optional<std::string>();
      }
      if (absl::IsDataLoss(version.status())) {
        return absl::DataLossError(
            absl::StrCat("store at ", dir, " cannot be repaired by replaying its write-ahead log (",
                         version.status().message(),
                         "): the damage is elsewhere (an SST file or the MANIFEST); "
                         "run `evolv store verify --data-dir ",
                         dir,
                         "` to see what is damaged, and restore "
                         "the store from a backup. Nothing was changed. The first failure was: ",
                         strict_failure.message()));
      }
      if (!version.ok()) return version.status();
      absl::StatusOr<std::string> kept = KeepWriteAheadLogs(dir);
      if (!kept.ok()) return kept.status();
      repair_report.push_back(absl::StrCat("copies of the write-ahead log files: ", *kept));
      for (const auto& line : damage_log->lines()) repair_report.push_back(line);
    } else if (!version.ok()) {
      return version.status();
    }
    if (version->has_value() && **version != absl::StrCat(kSchemaVersion) &&
        !(**version == "1" && !options.schema_v1.empty())) {
      return VersionMismatch(dir, **version);
    }
  } else if (!fs::is_empty(dir, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("store at ", dir,
                     ": the directory is not empty and is not an evolv store (no RocksDB CURRENT "
                     "file)"));
  }

  auto store = std::unique_ptr<Store>(new Store(dir, options));
  auto cache = rocksdb::NewLRUCache(options.block_cache_bytes);

  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_total_wal_size = 256 << 20;
  db_options.keep_log_file_num = 5;
  if (options.env != nullptr) db_options.env = options.env.get();
  db_options.info_log = TolerantInfoLog::Open(db_options.env, dir);
  db_options.listeners.push_back(std::make_shared<NoAutomaticRecovery>());

  // Column families a newer evolv may have added must be opened too; RocksDB refuses otherwise.
  std::vector<std::string> names = {
      rocksdb::kDefaultColumnFamilyName, keys::kMetaColumnFamily,
      keys::kJobsColumnFamily,           keys::kSnapshotsColumnFamily,
      keys::kHistoryColumnFamily,        keys::kEvaluationsColumnFamily};
  for (const auto& name : existing) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const auto& name : names) {
    families.emplace_back(name,
                          TunedColumnFamilyOptions(cache, name == keys::kEvaluationsColumnFamily));
  }

  rocksdb::DB* raw = nullptr;
  rocksdb::Status s;
  for (size_t i = 0; i < replays.size(); ++i) {
    SetWalReplay(replays[i], &db_options);
    s = rocksdb::DB::Open(db_options, dir, families, &store->handles_, &raw);
    if (!s.IsCorruption() || replays[i] == WalReplay::kSkipDamaged) break;
  }
  if (!s.ok()) {
    if (IsLockError(s)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "store at ", dir,
          " is in use by another process (or another Store in this process): ", s.ToString()));
    }
    if (s.IsCorruption() && !options.repair) {
      return DamagedStoreError(dir, FromRocks(s, dir, "cannot open"), {});
    }
    return FromRocks(s, dir, "cannot open");
  }
  if (replays.front() != WalReplay::kStrict) {
    repair_report.push_back(
        db_options.wal_recovery_mode == rocksdb::WALRecoveryMode::kPointInTimeRecovery
            ? "replayed the write-ahead log up to the first damaged record; dropped the records "
              "after it"
            : "replayed every intact record of the write-ahead log; skipped the damaged ones "
              "(column families flushed past the damage ruled out stopping at it)");
    store->repair_report_ = std::move(repair_report);
  }
  store->db_.reset(raw);
  store->meta_ = store->handles_[1];
  store->jobs_ = store->handles_[2];
  store->snapshots_ = store->handles_[3];
  store->history_ = store->handles_[4];
  store->evaluations_ = store->handles_[5];

  std::string version;
  s = store->db_->Get(rocksdb::ReadOptions(), store->meta_, keys::kSchemaVersionKey, &version);
  if (s.ok()) {
    if (version == "1" && !options.schema_v1.empty()) {
      if (absl::Status status = store->UpgradeFromV1(); !status.ok()) return status;
      return store;
    }
    if (version != absl::StrCat(kSchemaVersion)) return VersionMismatch(dir, version);
    return store;
  }
  if (!s.IsNotFound()) return FromRocks(s, dir, "cannot read the schema version");

  // No version: a new store, or one whose creation was interrupted before the version was
  // written. Anything holding data without a version was not written by evolv.
  for (auto* handle : {store->jobs_, store->snapshots_, store->history_, store->evaluations_}) {
    std::unique_ptr<rocksdb::Iterator> it(store->db_->NewIterator(rocksdb::ReadOptions(), handle));
    it->SeekToFirst();
    if (it->Valid() || !it->status().ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "store at ", dir, " holds data but no schema version; it is not an evolv store"));
    }
  }
  rocksdb::WriteOptions sync;
  sync.sync = true;
  s = store->db_->Put(sync, store->meta_, keys::kSchemaVersionKey, absl::StrCat(kSchemaVersion));
  if (!s.ok()) return FromRocks(s, dir, "cannot write the schema version");
  return store;
}

absl::Status Store::UpgradeFromV1() {
  // Each message type per column family; rows already upgraded are left alone, so an upgrade
  // cut short is simply run again. The version is written last.
  struct Family {
    rocksdb::ColumnFamilyHandle* handle;
    std::unique_ptr<google::protobuf::Message> prototype;
  };
  std::vector<Family> families;
  families.push_back({jobs_, std::make_unique<v1::JobRecord>()});
  families.push_back({snapshots_, std::make_unique<v1::CoordinatorCheckpoint>()});
  families.push_back({history_, std::make_unique<v1::HistoryEntry>()});
  families.push_back({evaluations_, std::make_unique<v1::CachedEvaluation>()});
  constexpr size_t kRowsPerBatch = 10000;
  for (const Family& family : families) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), family.handle));
    rocksdb::WriteBatch batch;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::unique_ptr<google::protobuf::Message> message(family.prototype->New());
      if (!message->ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return absl::DataLossError(absl::StrCat(
            "store at ", dir_, ": upgrading from schema 1: ", family.handle->GetName(), " row \"",
            keys::PrintableKey(it->key().ToStringView()), "\" does not parse"));
      }
      if (!UpgradeFromSchemaV1(message.get(), options_.schema_v1)) continue;
      batch.Put(family.handle, it->key(), message->SerializeAsString());
      if (batch.Count() >= kRowsPerBatch) {
        if (absl::Status status = Write(&batch); !status.ok()) return status;
        batch.Clear();
      }
    }
    if (!it->status().ok()) return FromRocks(it->status(), dir_, "upgrading from schema 1");
    if (batch.Count() > 0) {
      if (absl::Status status = Write(&batch); !status.ok()) return status;
    }
  }
  rocksdb::WriteOptions sync;
  sync.sync = true;
  rocksdb::Status s = db_->Put(sync, meta_, keys::kSchemaVersionKey, absl::StrCat(kSchemaVersion));
  if (!s.ok()) return FromRocks(s, dir_, "cannot write the schema version");
  return absl::OkStatus();
}

absl::Status Store::Write(rocksdb::WriteBatch* batch) {
  rocksdb::WriteOptions write_options;
  write_options.disableWAL = options_.durability == Durability::kNoWal;
  write_options.sync = options_.durability == Durability::kWalSync;
  rocksdb::Status s = db_->Write(write_options, batch);
  if (!s.ok()) return FromRocks(s, dir_, "write failed");
  return absl::OkStatus();
}

// --- Jobs -------------------------------------------------------------------------------------

absl::Status Store::PutJob(const v1::JobRecord& job) {
  CheckpointBatch batch;
  batch.job = job;
  return Commit(batch);
}

absl::StatusOr<v1::JobRecord> Store::GetJob(std::string_view job_id) const {
  rocksdb::PinnableSlice value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), jobs_, ToSlice(job_id), &value);
  if (s.IsNotFound()) {
    return absl::NotFoundError(absl::StrCat("no job \"", keys::PrintableKey(job_id), "\""));
  }
  if (!s.ok()) return FromRocks(s, dir_, absl::StrCat("reading job ", AV(job_id)));
  v1::JobRecord job;
  if (absl::Status st = ParseValue(value, keys::kJobsColumnFamily, job_id, dir_, &job); !st.ok()) {
    return st;
  }
  return job;
}

absl::StatusOr<std::vector<v1::JobRecord>> Store::ListJobs() const {
  std::vector<v1::JobRecord> jobs;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), jobs_));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    v1::JobRecord& job = jobs.emplace_back();
    const rocksdb::Slice key = it->key();
    if (absl::Status st = ParseValue(it->value(), keys::kJobsColumnFamily,
                                     std::string_view(key.data(), key.size()), dir_, &job);
        !st.ok()) {
      return st;
    }
  }
  if (!it->status().ok()) return FromRocks(it->status(), dir_, "listing jobs");
  std::stable_sort(jobs.begin(), jobs.end(), [](const v1::JobRecord& a, const v1::JobRecord& b) {
    return a.created_unix_ms() < b.created_unix_ms();  // keys are ids: ties stay in id order
  });
  return jobs;
}

absl::Status Store::DeleteJob(std::string_view job_id) {
  if (absl::Status st = CheckJobId(job_id, "DeleteJob"); !st.ok()) return st;
  rocksdb::WriteBatch batch;
  rocksdb::Status s = batch.Delete(jobs_, ToSlice(job_id));
  if (s.ok()) s = batch.Delete(snapshots_, ToSlice(job_id));
  if (s.ok()) {
    s = batch.DeleteRange(history_, keys::HistoryBegin(job_id), keys::HistoryEnd(job_id));
  }
  if (!s.ok()) return FromRocks(s, dir_, "building the delete batch");
  return Write(&batch);
}

// --- Checkpoints ------------------------------------------------------------------------------

absl::Status Store::Commit(const CheckpointBatch& batch) {
  // Validate everything before writing anything.
  if (batch.job.has_value()) {
    if (absl::Status st = CheckJobId(batch.job->id(), "job record"); !st.ok()) return st;
  }
  if (batch.snapshot.has_value()) {
    if (absl::Status st = CheckJobId(batch.snapshot->job_id, "snapshot"); !st.ok()) return st;
  }
  for (const auto& row : batch.history) {
    if (absl::Status st = CheckJobId(row.job_id, "history row"); !st.ok()) return st;
  }
  for (const auto& row : batch.cache) {
    if (absl::Status st = CheckCacheKey(row.key); !st.ok()) return st;
  }

  rocksdb::WriteBatch write;
  std::string value;
  rocksdb::Status s;
  auto put = [&](rocksdb::ColumnFamilyHandle* cf, const rocksdb::Slice& key,
                 const google::protobuf::MessageLite& message) {
    if (!s.ok()) return;
    value.clear();
    if (!message.SerializeToString(&value)) {
      s = rocksdb::Status::InvalidArgument("cannot serialize " + message.GetTypeName());
      return;
    }
    s = write.Put(cf, key, value);
  };
  if (batch.job.has_value()) put(jobs_, batch.job->id(), *batch.job);
  if (batch.snapshot.has_value()) {
    put(snapshots_, batch.snapshot->job_id, batch.snapshot->checkpoint);
  }
  for (const auto& row : batch.history) {
    put(history_, keys::HistoryKey(row.job_id, row.entry.index()), row.entry);
  }
  for (const auto& row : batch.cache) put(evaluations_, row.key, row.value);
  if (!s.ok()) return FromRocks(s, dir_, "building the checkpoint batch");
  return Write(&write);
}

absl::StatusOr<v1::CoordinatorCheckpoint> Store::GetCheckpoint(std::string_view job_id) const {
  rocksdb::PinnableSlice value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), snapshots_, ToSlice(job_id), &value);
  if (s.IsNotFound()) {
    return absl::NotFoundError(
        absl::StrCat("no checkpoint for job \"", keys::PrintableKey(job_id), "\""));
  }
  if (!s.ok()) return FromRocks(s, dir_, absl::StrCat("reading checkpoint of ", AV(job_id)));
  v1::CoordinatorCheckpoint checkpoint;
  if (absl::Status st = ParseValue(value, keys::kSnapshotsColumnFamily, job_id, dir_, &checkpoint);
      !st.ok()) {
    return st;
  }
  return checkpoint;
}

// --- History ----------------------------------------------------------------------------------

namespace {

// Calls `visit(entry)` for each history row of `job_id` from `from_index` on, in index order,
// until it returns false. Checks that each row's stored index matches its key.
template <typename Visit>
absl::Status ScanHistory(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* history,
                         const std::string& dir, std::string_view job_id, uint64_t from_index,
                         bool fill_cache, Visit visit) {
  const std::string end = keys::HistoryEnd(job_id);
  const rocksdb::Slice upper_bound(end);
  rocksdb::ReadOptions read_options;
  read_options.iterate_upper_bound = &upper_bound;
  read_options.fill_cache = fill_cache;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read_options, history));
  for (it->Seek(keys::HistoryKey(job_id, from_index)); it->Valid(); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    std::string_view key_job;
    uint64_t index = 0;
    v1::HistoryEntry entry;
    if (!keys::ParseHistoryKey(key, &key_job, &index) || key_job != job_id) {
      return absl::DataLossError(absl::StrCat("store at ", dir, ": malformed key ",
                                              keys::kHistoryColumnFamily, "/\"",
                                              keys::PrintableKey(key), "\""));
    }
    if (absl::Status st = ParseValue(it->value(), keys::kHistoryColumnFamily, key, dir, &entry);
        !st.ok()) {
      return st;
    }
    if (entry.index() != index) {
      return absl::DataLossError(absl::StrCat("store at ", dir, ": ", keys::kHistoryColumnFamily,
                                              "/\"", keys::PrintableKey(key), "\" is row ", index,
                                              " but holds index ", entry.index()));
    }
    if (!visit(std::move(entry))) break;
  }
  if (!it->status().ok()) return FromRocks(it->status(), dir, "reading history");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<v1::HistoryEntry>> Store::ReadHistory(std::string_view job_id,
                                                                 uint64_t from_index,
                                                                 size_t limit) const {
  std::vector<v1::HistoryEntry> rows;
  if (limit == 0) return rows;
  absl::Status st = ScanHistory(db_.get(), history_, dir_, job_id, from_index, /*fill_cache=*/true,
                                [&](v1::HistoryEntry entry) {
                                  rows.push_back(std::move(entry));
                                  return rows.size() < limit;
                                });
  if (!st.ok()) return st;
  return rows;
}

absl::StatusOr<uint64_t> Store::CountHistory(std::string_view job_id) const {
  const std::string end = keys::HistoryEnd(job_id);
  const rocksdb::Slice upper_bound(end);
  rocksdb::ReadOptions read_options;
  read_options.iterate_upper_bound = &upper_bound;
  read_options.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options, history_));
  uint64_t count = 0;
  for (it->Seek(keys::HistoryBegin(job_id)); it->Valid(); it->Next()) ++count;
  if (!it->status().ok()) return FromRocks(it->status(), dir_, "counting history");
  return count;
}

namespace {

struct Ranked {
  double value;
  v1::HistoryEntry entry;
};

// Better = smaller objective, then smaller index.
struct RankedBetter {
  bool operator()(const Ranked& a, const Ranked& b) const {
    if (a.value != b.value) return a.value < b.value;
    return a.entry.index() < b.entry.index();
  }
};

}  // namespace

absl::StatusOr<std::vector<v1::HistoryEntry>> Store::QueryTopByJob(std::string_view job_id,
                                                                   int objective_index,
                                                                   size_t k) const {
  return TopOfHistory(job_id, objective_index, k, /*distinct_keys=*/false);
}

absl::StatusOr<std::vector<v1::HistoryEntry>> Store::QueryTopKeysByJob(std::string_view job_id,
                                                                       int objective_index,
                                                                       size_t k) const {
  return TopOfHistory(job_id, objective_index, k, /*distinct_keys=*/true);
}

absl::StatusOr<std::vector<v1::HistoryEntry>> Store::TopOfHistory(std::string_view job_id,
                                                                  int objective_index, size_t k,
                                                                  bool distinct_keys) const {
  if (objective_index < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("objective index must be >= 0, got ", objective_index));
  }
  if (k == 0) return std::vector<v1::HistoryEntry>();
  using Ranking = std::set<Ranked, RankedBetter>;
  Ranking best;  // at most k, best first
  // With distinct_keys: where each key's row in `best` is. A key holds one row, its best so far;
  // a row evicted from `best` is worse than all k there, and so is any later row of its key that
  // is worse than it, so no key's best row is ever lost.
  std::unordered_map<std::string, Ranking::iterator> by_key;
  const RankedBetter better;
  absl::Status st = ScanHistory(
      db_.get(), history_, dir_, job_id, 0, /*fill_cache=*/false, [&](v1::HistoryEntry entry) {
        const v1::Evaluation& eval = entry.evaluation();
        if (eval.status() != v1::OK || objective_index >= eval.objectives_size()) return true;
        const double value = eval.objectives(objective_index);
        if (std::isnan(value)) return true;
        Ranked row{value, std::move(entry)};
        if (best.size() == k && !better(row, *std::prev(best.end()))) return true;
        if (distinct_keys) {
          auto same = by_key.find(row.entry.key());
          if (same != by_key.end()) {
            if (!better(row, *same->second)) return true;
            best.erase(same->second);
            by_key.erase(same);
          }
          const std::string key = row.entry.key();
          by_key[key] = best.insert(std::move(row)).first;
        } else {
          best.insert(std::move(row));
        }
        if (best.size() > k) {
          auto worst = std::prev(best.end());
          if (distinct_keys) by_key.erase(worst->entry.key());
          best.erase(worst);
        }
        return true;
      });
  if (!st.ok()) return st;
  std::vector<v1::HistoryEntry> rows;
  rows.reserve(best.size());
  while (!best.empty()) rows.push_back(std::move(best.extract(best.begin()).value().entry));
  return rows;
}

// --- Evaluation cache -------------------------------------------------------------------------

absl::StatusOr<v1::CachedEvaluation> Store::GetEvaluation(std::string_view key) const {
  if (absl::Status st = CheckCacheKey(key); !st.ok()) return st;
  rocksdb::PinnableSlice value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), evaluations_, ToSlice(key), &value);
  if (s.IsNotFound()) {
    return absl::NotFoundError(
        absl::StrCat("no cached evaluation under \"", keys::PrintableKey(key), "\""));
  }
  if (!s.ok()) return FromRocks(s, dir_, "reading the evaluation cache");
  v1::CachedEvaluation row;
  if (absl::Status st = ParseValue(value, keys::kEvaluationsColumnFamily, key, dir_, &row);
      !st.ok()) {
    return st;
  }
  return row;
}

absl::StatusOr<std::vector<std::optional<v1::CachedEvaluation>>> Store::GetEvaluations(
    const std::vector<std::string>& keys) const {
  std::vector<rocksdb::Slice> slices;
  slices.reserve(keys.size());
  for (const auto& key : keys) {
    if (absl::Status st = CheckCacheKey(key); !st.ok()) return st;
    slices.emplace_back(key);
  }
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  db_->MultiGet(rocksdb::ReadOptions(), evaluations_, keys.size(), slices.data(), values.data(),
                statuses.data());
  std::vector<std::optional<v1::CachedEvaluation>> rows(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) return FromRocks(statuses[i], dir_, "reading the evaluation cache");
    if (absl::Status st = ParseValue(values[i], keys::kEvaluationsColumnFamily, keys[i], dir_,
                                     &rows[i].emplace());
        !st.ok()) {
      return st;
    }
  }
  return rows;
}

absl::StatusOr<uint64_t> Store::CountEvaluations() const {
  rocksdb::ReadOptions read_options;
  read_options.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options, evaluations_));
  uint64_t count = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++count;
  if (!it->status().ok()) return FromRocks(it->status(), dir_, "counting the evaluation cache");
  return count;
}

// --- Maintenance ------------------------------------------------------------------------------

absl::Status Store::Flush() {
  rocksdb::FlushOptions flush_options;
  flush_options.wait = true;
  rocksdb::Status s = db_->Flush(flush_options, handles_);
  if (!s.ok()) return FromRocks(s, dir_, "flush failed");
  return absl::OkStatus();
}

// --- Write errors ---------------------------------------------------------------------------

absl::Status Store::RecoverWrites() {
  rocksdb::Env* env = db_->GetEnv();
  // The file system first: DB::Resume on a disk that still refuses writes would fail again.
  const std::string scratch = dir_ + "/WRITE_PROBE";
  {
    std::unique_ptr<rocksdb::WritableFile> file;
    rocksdb::EnvOptions env_options;
    rocksdb::Status s = env->NewWritableFile(scratch, &file, env_options);
    if (s.ok()) s = file->Append(std::string(kWriteProbeBytes, '\0'));
    if (s.ok()) s = file->Sync();
    if (file != nullptr) {
      rocksdb::Status closed = file->Close();
      if (s.ok()) s = closed;
    }
    env->DeleteFile(scratch).PermitUncheckedError();
    if (!s.ok()) return FromRocks(s, dir_, "the file system refuses writes");
  }
  rocksdb::WriteOptions sync;
  sync.sync = true;
  rocksdb::Status s = db_->Put(sync, meta_, kWriteProbeKey, "");
  if (s.ok()) return absl::OkStatus();
  // RocksDB holds a background error from the failed write: clear it, then try again.
  rocksdb::Status resumed = db_->Resume();
  if (!resumed.ok()) return FromRocks(resumed, dir_, "resuming writes failed");
  s = db_->Put(sync, meta_, kWriteProbeKey, "");
  if (!s.ok()) return FromRocks(s, dir_, "the probe write failed");
  return absl::OkStatus();
}

}  // namespace evolv
