// WriteFaultFileSystem: RocksDB's default file system whose writes fail on command, as on a full
// disk: while SetFailing(true), creating a writable file and every Append, PositionedAppend,
// Flush, Sync, Fsync, RangeSync, Allocate and Truncate answer IOStatus::NoSpace, also on files
// opened before the fault was switched on (the write-ahead log). Reads, renames, deletes and
// Close pass through, as they do on a full disk. For tests that open the real Store
// (StoreOptions::env = WriteFaultFileSystem::NewEnv(fs)) and inject a fault.
//
// Thread-safe: the switch is an atomic, read by RocksDB's threads on every write.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace evolv::testing {

class WriteFaultFileSystem : public rocksdb::FileSystemWrapper {
 public:
  WriteFaultFileSystem()
      : rocksdb::FileSystemWrapper(rocksdb::FileSystem::Default()),
        fault_(std::make_shared<Fault>()) {}

  // An Env for DBOptions::env / StoreOptions::env that does its file I/O through `fs`.
  static std::shared_ptr<rocksdb::Env> NewEnv(const std::shared_ptr<WriteFaultFileSystem>& fs) {
    return std::shared_ptr<rocksdb::Env>(rocksdb::NewCompositeEnv(fs));
  }

  const char* Name() const override { return "WriteFaultFileSystem"; }

  // Switches the fault on (every write fails with NoSpace) or off.
  void SetFailing(bool failing) { fault_->failing.store(failing); }
  bool failing() const { return fault_->failing.load(); }
  // Writes refused since this file system was made.
  uint64_t refused_writes() const { return fault_->refused.load(); }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    if (fault_->Refuse()) return NoSpace(name);
    rocksdb::IOStatus s = target()->NewWritableFile(name, options, result, dbg);
    if (s.ok()) *result = std::make_unique<File>(std::move(*result), fault_);
    return s;
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override {
    if (fault_->Refuse()) return NoSpace(name);
    rocksdb::IOStatus s = target()->ReopenWritableFile(name, options, result, dbg);
    if (s.ok()) *result = std::make_unique<File>(std::move(*result), fault_);
    return s;
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& name, const std::string& old_name,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override {
    if (fault_->Refuse()) return NoSpace(name);
    rocksdb::IOStatus s = target()->ReuseWritableFile(name, old_name, options, result, dbg);
    if (s.ok()) *result = std::make_unique<File>(std::move(*result), fault_);
    return s;
  }

 private:
  struct Fault {
    std::atomic<bool> failing{false};
    std::atomic<uint64_t> refused{0};
    bool Refuse() {
      if (!failing.load()) return false;
      ++refused;
      return true;
    }
  };

  static rocksdb::IOStatus NoSpace(const std::string& what) {
    return rocksdb::IOStatus::NoSpace(what, "injected fault: no space left on device");
  }

  class File : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> file, std::shared_ptr<Fault> fault)
        : rocksdb::FSWritableFileOwnerWrapper(std::move(file)), fault_(std::move(fault)) {}

    using IOOptions = rocksdb::IOOptions;
    using IOStatus = rocksdb::IOStatus;
    using Dbg = rocksdb::IODebugContext;

    IOStatus Append(const rocksdb::Slice& data, const IOOptions& o, Dbg* d) override {
      if (fault_->Refuse()) return NoSpace("append");
      return FSWritableFileOwnerWrapper::Append(data, o, d);
    }
    IOStatus Append(const rocksdb::Slice& data, const IOOptions& o,
                    const rocksdb::DataVerificationInfo& v, Dbg* d) override {
      if (fault_->Refuse()) return NoSpace("append");
      return FSWritableFileOwnerWrapper::Append(data, o, v, d);
    }
    IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset, const IOOptions& o,
                              Dbg* d) override {
      if (fault_->Refuse()) return NoSpace("positioned append");
      return FSWritableFileOwnerWrapper::PositionedAppend(data, offset, o, d);
    }
    IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset, const IOOptions& o,
                              const rocksdb::DataVerificationInfo& v, Dbg* d) override {
      if (fault_->Refuse()) return NoSpace("positioned append");
      return FSWritableFileOwnerWrapper::PositionedAppend(data, offset, o, v, d);
    }
    IOStatus Truncate(uint64_t size, const IOOptions& o, Dbg* d) override {
      if (fault_->Refuse()) return NoSpace("truncate");
      return FSWritableFileOwnerWrapper::Truncate(size, o, d);
    }
    IOStatus Flush(const IOOptions& o, Dbg* d) override {
      if (fault_->Refuse()) return NoSpace("flush");
      return FSWritableFileOwnerWrapper::Flush(o, d);
    }
    IOStatus Sync(const IOOptions& o, Dbg* d) override {
      if (fault_->Refuse()) return NoSpace("sync");
      return FSWritableFileOwnerWrapper::Sync(o, d);
    }
    IOStatus Fsync(const IOOptions& o, Dbg* d) override {
      if (fault_->Refuse()) return NoSpace("fsync");
      return FSWritableFileOwnerWrapper::Fsync(o, d);
    }
    IOStatus RangeSync(uint64_t offset, uint64_t bytes, const IOOptions& o, Dbg* d) override {
      if (fault_->Refuse()) return NoSpace("range sync");
      return FSWritableFileOwnerWrapper::RangeSync(offset, bytes, o, d);
    }
    IOStatus Allocate(uint64_t offset, uint64_t len, const IOOptions& o, Dbg* d) override {
      if (fault_->Refuse()) return NoSpace("allocate");
      return FSWritableFileOwnerWrapper::Allocate(offset, len, o, d);
    }

   private:
    std::shared_ptr<Fault> fault_;
  };

  std::shared_ptr<Fault> fault_;
};

}  // namespace evolv::testing
