#include "services/evolv/store_command.h"

#include <cstdio>

#include "absl/status/status.h"
#include "storage/store_verify.h"

namespace evolv {

int StoreVerifyCommand(const std::string& data_dir) {
  absl::StatusOr<StoreVerification> report = VerifyStore(data_dir);
  if (!report.ok()) {
    std::fprintf(stderr, "evolv: %s\n", std::string(report.status().message()).c_str());
    const bool no_store =
        absl::IsNotFound(report.status()) || absl::IsFailedPrecondition(report.status());
    return no_store ? 2 : 1;
  }
  std::printf(
      "store at %s: %zu write-ahead log files (%llu bytes) replayed, %zu SST files "
      "(%llu bytes) checksummed, %llu rows parsed\n",
      report->dir.c_str(), report->wal_files, static_cast<unsigned long long>(report->wal_bytes),
      report->sst_files, static_cast<unsigned long long>(report->sst_bytes),
      static_cast<unsigned long long>(report->rows));
  if (report->clean()) {
    std::printf("ok: nothing is damaged\n");
    return 0;
  }
  std::printf("DAMAGED (%zu):\n", report->damage.size());
  for (const std::string& line : report->damage) std::printf("  %s\n", line.c_str());
  std::printf(
      "Damage in the write-ahead log: `evolvd --repair --data-dir %s` (or `evolv run SPEC "
      "--repair --data-dir %s`) replays the log up to the damage and drops what follows, keeping "
      "copies of the log files. Damage in an SST file or a row: restore the store from a backup "
      "(docs/adr/0019-store-integrity.md).\n",
      report->dir.c_str(), report->dir.c_str());
  return 1;
}

}  // namespace evolv
