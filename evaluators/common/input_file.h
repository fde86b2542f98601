// InputFile: a file a user names (a Matrix Market file, a denoiser model, a job spec), read line by
// line or whole with every size bounded, so that no path can block the reader or make it allocate
// at will.
//
// Open accepts regular files only (symbolic links are followed). It stats the path first, then
// opens it with O_NONBLOCK, so that a FIFO swapped in meanwhile cannot block the open, and checks
// the descriptor again with fstat: FIFOs, character and block devices (/dev/zero), sockets and
// directories are refused without a single read. Reading stops at the size the file had when it
// was opened (a file that grows meanwhile is read to that size), and a line longer than
// kMaxInputLineBytes is refused after at most that many bytes of it are read. A caller that reads
// the file whole checks size() against its own limit before ReadRest, which allocates no more.
//
// Errors (InvalidArgument, the path first): "PATH: cannot open for reading (REASON)", "PATH: not a
// regular file (a FIFO)" (or a character device, ...), "PATH:LINE: line longer than 1048576
// bytes", "PATH: read failed (REASON)". When a spec field names the file (Open's `field`), they
// read "FIELD: 'PATH' cannot be read (REASON)" (open or read), "FIELD: 'PATH' is not a regular
// file (a FIFO)", "FIELD: 'PATH' line LINE is longer than 1048576 bytes".
// Thread-safety: none; one InputFile is read by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace evolv {

inline constexpr size_t kMaxInputLineBytes = 1 << 20;  // 1 MiB, the '\n' not counted

class InputFile {
 public:
  // `field`, when not empty, is the spec field that named the file; errors then start with it.
  static absl::StatusOr<std::unique_ptr<InputFile>> Open(const std::string& path,
                                                         const std::string& field = "");
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  const std::string& path() const { return path_; }
  // The file's size when it was opened.
  uint64_t size() const { return size_; }
  // Bytes of size() not yet returned in lines (their '\n' included).
  uint64_t remaining() const { return size_ - consumed_; }
  // The 1-based number of the last line NextLine returned; 0 before the first.
  int64_t line_number() const { return line_number_; }

  // The next line, without its '\n'. False at the end of the file or on an error; status() then
  // tells which (OK at the end).
  bool NextLine(std::string& line);
  const absl::Status& status() const { return status_; }

  // The bytes of size() not yet returned in lines, read to the end. Allocates remaining() bytes
  // (no more), so a caller with a size limit checks size() first. The read error, if any.
  absl::StatusOr<std::string> ReadRest();

 private:
  InputFile(std::string path, std::string field, int fd, uint64_t size);
  // Refills buffer_ from the file; false at size() or on a read error (status_ set).
  bool Fill();

  std::string path_;
  std::string field_;
  int fd_;
  uint64_t size_;
  uint64_t read_ = 0;      // bytes read from the file
  uint64_t consumed_ = 0;  // bytes returned in lines
  int64_t line_number_ = 0;
  std::string buffer_;
  size_t position_ = 0;  // next unread byte of buffer_
  absl::Status status_;
};

}  // namespace evolv
