#include "storage/key_encoding.h"

#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"

namespace evolv::storage_keys {
namespace {

void AppendBigEndian(std::string* out, uint64_t value, int bytes) {
  for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8) {
    out->push_back(static_cast<char>((value >> shift) & 0xff));
  }
}

uint64_t ReadBigEndian(std::string_view in) {
  uint64_t value = 0;
  for (char c : in) value = (value << 8) | static_cast<unsigned char>(c);
  return value;
}

constexpr size_t kLengthBytes = 4;
constexpr size_t kIndexBytes = 8;

}  // namespace

std::string HistoryBegin(std::string_view job_id) {
  std::string key;
  key.reserve(kLengthBytes + job_id.size() + kIndexBytes);
  AppendBigEndian(&key, job_id.size(), kLengthBytes);
  key.append(job_id);
  return key;
}

std::string HistoryKey(std::string_view job_id, uint64_t index) {
  std::string key = HistoryBegin(job_id);
  AppendBigEndian(&key, index, kIndexBytes);
  return key;
}

std::string HistoryEnd(std::string_view job_id) {
  // Every row key is HistoryBegin + 8 bytes, so it sorts below HistoryBegin + 9 x 0xff.
  std::string key = HistoryBegin(job_id);
  key.append(kIndexBytes + 1, '\xff');
  return key;
}

bool ParseHistoryKey(std::string_view key, std::string_view* job_id, uint64_t* index) {
  if (key.size() < kLengthBytes + kIndexBytes) return false;
  const uint64_t length = ReadBigEndian(key.substr(0, kLengthBytes));
  if (key.size() != kLengthBytes + length + kIndexBytes) return false;
  *job_id = key.substr(kLengthBytes, length);
  *index = ReadBigEndian(key.substr(kLengthBytes + length));
  return true;
}

std::string PrintableKey(std::string_view key) {
  return absl::CHexEscape(absl::string_view(key.data(), key.size()));
}

}  // namespace evolv::storage_keys
