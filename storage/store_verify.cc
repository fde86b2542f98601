#include "storage/store_verify.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string_view>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "evolv/v1/checkpoint.pb.h"
#include "evolv/v1/job.pb.h"
#include "rocksdb/db.h"
#include "rocksdb/metadata.h"
#include "rocksdb/options.h"
#include "rocksdb/sst_file_reader.h"
#include "storage/damage_logger.h"
#include "storage/key_encoding.h"
#include "storage/wal_replay.h"

namespace evolv {
namespace {

namespace fs = std::filesystem;
namespace keys = storage_keys;

constexpr size_t kRowsListedPerFamily = 20;

using storage_internal::DamageLogger;
using storage_internal::WalReplay;

// Checks one row of an evolv column family; returns what is wrong, or "" when it is fine.
std::string CheckRow(const std::string& family, const rocksdb::Slice& key_slice,
                     const rocksdb::Slice& value) {
  const std::string_view key(key_slice.data(), key_slice.size());
  const int size = static_cast<int>(value.size());
  auto parses = [&](google::protobuf::MessageLite* message) {
    return message->ParseFromArray(value.data(), size);
  };
  if (family == keys::kJobsColumnFamily) {
    v1::JobRecord job;
    if (!parses(&job)) return "does not parse as evolv.v1.JobRecord";
    if (job.id() != key) return absl::StrCat("holds job id \"", keys::PrintableKey(job.id()), "\"");
  } else if (family == keys::kSnapshotsColumnFamily) {
    v1::CoordinatorCheckpoint checkpoint;
    if (!parses(&checkpoint)) return "does not parse as evolv.v1.CoordinatorCheckpoint";
  } else if (family == keys::kHistoryColumnFamily) {
    std::string_view job_id;
    uint64_t index = 0;
    if (!keys::ParseHistoryKey(key, &job_id, &index)) return "is not a history key";
    v1::HistoryEntry entry;
    if (!parses(&entry)) return "does not parse as evolv.v1.HistoryEntry";
    if (entry.index() != index) return absl::StrCat("holds index ", entry.index());
  } else if (family == keys::kEvaluationsColumnFamily) {
    if (key.size() != keys::kCacheKeySize) return "is not a 16-byte cache key";
    v1::CachedEvaluation row;
    if (!parses(&row)) return "does not parse as evolv.v1.CachedEvaluation";
  }
  return "";
}

}  // namespace

absl::StatusOr<StoreVerification> VerifyStore(const std::string& dir) {
  StoreVerification report;
  report.dir = dir;
  std::error_code ec;
  if (!fs::exists(fs::path(dir) / "CURRENT", ec)) {
    return absl::NotFoundError(
        absl::StrCat("store at ", dir, ": no store here (no RocksDB CURRENT file)"));
  }

  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names);
  if (!s.ok()) {
    report.damage.push_back(absl::StrCat("MANIFEST (via CURRENT): ", s.ToString()));
    return report;
  }
  if (std::find(names.begin(), names.end(), keys::kMetaColumnFamily) == names.end()) {
    return storage_internal::NotAnEvolvStore(dir, names);
  }

  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() != ".log" || !it->is_regular_file()) continue;
    ++report.wal_files;
    report.wal_bytes += it->file_size(ec);
  }

  // Open read-only as Store::Open does (WalReplay::kStrict, storage/wal_replay.h); on damage in the
  // log, again up to the damage, then skipping damaged records, so the rest can be checked.
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const auto& name : names) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  std::unique_ptr<rocksdb::DB> db;
  for (const WalReplay replay :
       {WalReplay::kStrict, WalReplay::kToTheDamage, WalReplay::kSkipDamaged}) {
    auto logger = std::make_shared<DamageLogger>();
    const rocksdb::Options options = storage_internal::ReadOnlyOptions(replay, logger);
    rocksdb::DB* raw = nullptr;
    handles.clear();
    s = rocksdb::DB::OpenForReadOnly(options, dir, families, &handles, &raw);
    if (s.ok()) {
      db.reset(raw);
      break;
    }
    if (!s.IsCorruption()) {
      return absl::UnavailableError(
          absl::StrCat("store at ", dir, ": cannot open it read-only: ", s.ToString()));
    }
    if (replay == WalReplay::kStrict) {
      std::string line = absl::StrCat("write-ahead log: ", s.ToString());
      for (const auto& detail : logger->lines()) absl::StrAppend(&line, "; ", detail);
      report.damage.push_back(std::move(line));
    }
  }
  if (db == nullptr) {
    report.damage.push_back(
        absl::StrCat("cannot open the store even skipping damaged log "
                     "records (an SST file or the MANIFEST): ",
                     s.ToString()));
    return report;
  }

  // Every live SST file, each on its own so that every damaged one is named.
  std::vector<rocksdb::LiveFileMetaData> files;
  db->GetLiveFilesMetaData(&files);
  std::sort(files.begin(), files.end(),
            [](const auto& a, const auto& b) { return a.relative_filename < b.relative_filename; });
  for (const rocksdb::LiveFileMetaData& file : files) {
    const std::string path = file.directory + "/" + file.relative_filename;
    if (!fs::exists(path, ec)) continue;  // compacted away by the store's writer meanwhile
    rocksdb::SstFileReader reader{rocksdb::Options()};
    s = reader.Open(path);
    if (s.ok()) s = reader.VerifyChecksum();
    ++report.sst_files;
    report.sst_bytes += file.size;
    if (!s.ok()) {
      report.damage.push_back(absl::StrCat(file.relative_filename, " (column family \"",
                                           file.column_family_name, "\", level ", file.level,
                                           "): ", s.ToString()));
    }
  }

  // Every row.
  std::string version;
  s = db->Get(
      rocksdb::ReadOptions(),
      handles[std::find(names.begin(), names.end(), keys::kMetaColumnFamily) - names.begin()],
      keys::kSchemaVersionKey, &version);
  if (s.IsNotFound()) {
    report.damage.push_back(
        absl::StrCat(keys::kMetaColumnFamily, "/\"", keys::kSchemaVersionKey, "\" is missing"));
  } else if (!s.ok()) {
    report.damage.push_back(absl::StrCat(keys::kMetaColumnFamily, "/\"", keys::kSchemaVersionKey,
                                         "\": ", s.ToString()));
  }
  rocksdb::ReadOptions read_options;
  read_options.verify_checksums = true;
  read_options.fill_cache = false;
  for (size_t i = 0; i < names.size(); ++i) {
    size_t bad = 0;
    std::string last_key;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read_options, handles[i]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ++report.rows;
      last_key.assign(it->key().data(), it->key().size());
      const std::string problem = CheckRow(names[i], it->key(), it->value());
      if (problem.empty()) continue;
      if (++bad <= kRowsListedPerFamily) {
        report.damage.push_back(absl::StrCat(names[i], "/\"", keys::PrintableKey(last_key), "\" (",
                                             it->value().size(), " bytes) ", problem));
      }
    }
    if (bad > kRowsListedPerFamily) {
      report.damage.push_back(
          absl::StrCat("... and ", bad - kRowsListedPerFamily, " more bad rows in ", names[i]));
    }
    if (!it->status().ok()) {
      report.damage.push_back(
          absl::StrCat("column family \"", names[i], "\" cannot be read past ",
                       last_key.empty() ? std::string("its start")
                                        : absl::StrCat("\"", keys::PrintableKey(last_key), "\""),
                       ": ", it->status().ToString()));
    }
  }
  for (auto* handle : handles) db->DestroyColumnFamilyHandle(handle);
  return report;
}

}  // namespace evolv
