// evolv::storage_internal::DamageLogger — RocksDB's info log reduced to its lines about damage,
// for messages and reports: RocksDB's status for a damaged write-ahead log ("Corruption: checksum
// mismatch") names neither the file nor what was dropped; its info log does
// ("DIR/000004.log: dropping 32768 bytes; Corruption: checksum mismatch").
// Used by Store::Open's read-only probe and by VerifyStore; not part of the store's interface.
#ifndef EVOLV_STORAGE_DAMAGE_LOGGER_H_
#define EVOLV_STORAGE_DAMAGE_LOGGER_H_

#include <cstdarg>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "rocksdb/env.h"

namespace evolv::storage_internal {

// Keeps the lines about damage in memory and discards the rest, so that a read-only open that
// uses it writes no LOG file into the store. Used by one open at a time (not thread-safe).
class DamageLogger : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    char buffer[1024];
    vsnprintf(buffer, sizeof(buffer), format, ap);
    std::string_view line(buffer);
    if (line.find("dropping") == std::string_view::npos &&
        line.find("orrupt") == std::string_view::npos &&
        line.find("Point in time") == std::string_view::npos) {
      return;
    }
    // "[WARN] [db/db_impl/db_impl_open.cc:982] DIR/000004.log: ..." -> "DIR/000004.log: ..."
    while (!line.empty() && line.front() == '[' && line.find("] ") != std::string_view::npos) {
      line.remove_prefix(line.find("] ") + 2);
    }
    if (lines_.size() < kLinesKept) {
      lines_.emplace_back(line);
    } else {
      ++lines_left_out_;
    }
  }

  // The first lines about damage, then how many more there were.
  std::vector<std::string> lines() const {
    std::vector<std::string> lines = lines_;
    if (lines_left_out_ > 0) {
      lines.push_back("... and " + std::to_string(lines_left_out_) + " more such lines");
    }
    return lines;
  }

 private:
  static constexpr size_t kLinesKept = 3;
  std::vector<std::string> lines_;
  size_t lines_left_out_ = 0;
};

}  // namespace evolv::storage_internal

#endif  // EVOLV_STORAGE_DAMAGE_LOGGER_H_
