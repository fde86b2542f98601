#include "evaluators/common/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace evolv {
namespace {

constexpr size_t kReadChunk = 64 << 10;

// Empty for a regular file, else what it is.
std::string NotRegular(mode_t mode) {
  if (S_ISREG(mode)) return "";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISDIR(mode)) return "a directory";
  return "not a plain file";
}

// An error about the file at `path`: "PATH<bare>" (`bare` starts with its separator), or
// "FIELD: 'PATH' <worded>" when the spec field `field` named the file.
absl::Status FileError(const std::string& path, const std::string& field, absl::string_view bare,
                       absl::string_view worded) {
  return absl::InvalidArgumentError(field.empty() ? absl::StrCat(path, bare)
                                                  : absl::StrCat(field, ": '", path, "' ", worded));
}

absl::Status Refuse(const std::string& path, const std::string& field, const std::string& kind) {
  return FileError(path, field, absl::StrCat(": not a regular file (", kind, ")"),
                   absl::StrCat("is not a regular file (", kind, ")"));
}

absl::Status CannotOpen(const std::string& path, const std::string& field, int error) {
  const char* reason = std::strerror(error);
  return FileError(path, field, absl::StrCat(": cannot open for reading (", reason, ")"),
                   absl::StrCat("cannot be read (", reason, ")"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<InputFile>> InputFile::Open(const std::string& path,
                                                           const std::string& field) {
  struct stat before;
  if (::stat(path.c_str(), &before) != 0) return CannotOpen(path, field, errno);
  if (std::string kind = NotRegular(before.st_mode); !kind.empty())
    return Refuse(path, field, kind);
  int fd;
  do {
    fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return CannotOpen(path, field, errno);
  struct stat opened;
  if (::fstat(fd, &opened) != 0) {
    const int error = errno;
    ::close(fd);
    return CannotOpen(path, field, error);
  }
  if (std::string kind = NotRegular(opened.st_mode); !kind.empty()) {
    ::close(fd);
    return Refuse(path, field, kind);
  }
  return std::unique_ptr<InputFile>(
      new InputFile(path, field, fd, static_cast<uint64_t>(opened.st_size)));
}

InputFile::InputFile(std::string path, std::string field, int fd, uint64_t size)
    : path_(std::move(path)), field_(std::move(field)), fd_(fd), size_(size) {}

InputFile::~InputFile() { ::close(fd_); }

bool InputFile::Fill() {
  if (read_ >= size_) return false;
  buffer_.resize(static_cast<size_t>(std::min<uint64_t>(kReadChunk, size_ - read_)));
  position_ = 0;
  ssize_t n;
  do {
    n = ::read(fd_, buffer_.data(), buffer_.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    const char* reason = std::strerror(errno);
    status_ = FileError(path_, field_, absl::StrCat(": read failed (", reason, ")"),
                        absl::StrCat("cannot be read (", reason, ")"));
    buffer_.clear();
    return false;
  }
  buffer_.resize(static_cast<size_t>(n));
  if (n == 0) {
    size_ = read_;  // shrunk since it was opened: its end is here
    return false;
  }
  read_ += static_cast<uint64_t>(n);
  return true;
}

bool InputFile::NextLine(std::string& line) {
  line.clear();
  if (!status_.ok()) return false;
  bool any = false;  // bytes of this line seen (a last line may lack its '\n')
  while (true) {
    if (position_ == buffer_.size() && !Fill()) {
      if (!status_.ok() || !any) return false;
      ++line_number_;
      return true;
    }
    any = true;
    const size_t end = buffer_.find('\n', position_);
    const size_t stop = end == std::string::npos ? buffer_.size() : end;
    if (line.size() + (stop - position_) > kMaxInputLineBytes) {
      const int64_t number = line_number_ + 1;
      status_ = FileError(
          path_, field_,
          absl::StrCat(":", number, ": line longer than ", kMaxInputLineBytes, " bytes"),
          absl::StrCat("line ", number, " is longer than ", kMaxInputLineBytes, " bytes"));
      return false;
    }
    line.append(buffer_, position_, stop - position_);
    consumed_ += stop - position_;
    position_ = stop;
    if (end != std::string::npos) {
      ++position_;
      ++consumed_;
      ++line_number_;
      return true;
    }
  }
}

absl::StatusOr<std::string> InputFile::ReadRest() {
  if (!status_.ok()) return status_;
  std::string bytes;
  bytes.reserve(static_cast<size_t>(remaining()));
  do {
    bytes.append(buffer_, position_, std::string::npos);
    consumed_ += buffer_.size() - position_;
    position_ = buffer_.size();
  } while (Fill());
  if (!status_.ok()) return status_;
  return bytes;
}

}  // namespace evolv
