#include "services/evolvd/problem_cache.h"

#include <cassert>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/message.h"

namespace evolv {

std::string ProblemBytes(const v1::JobSpec& spec) {
  const google::protobuf::Any& any = spec.problem();
  const std::string type = any.type_url().substr(any.type_url().rfind('/') + 1);
  // Parsed and serialized again, deterministically: writers differ in what they put in an Any
  // (protobuf's JSON parser keeps fields set to their defaults, other serializers drop them),
  // and the same problem must give the same bytes whichever client packed it.
  const google::protobuf::Descriptor* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(type);
  if (descriptor == nullptr) return any.SerializeAsString();  // not a type this binary knows
  std::unique_ptr<google::protobuf::Message> message(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(descriptor)->New());
  if (!message->ParseFromString(any.value())) return any.SerializeAsString();
  std::string out = type + '\n';
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message->SerializeToCodedStream(&coded);
  }
  return out;
}

ProblemCache::ProblemCache(const ProblemRegistry& registry, size_t capacity)
    : registry_(registry), capacity_(capacity) {
  assert(capacity_ >= 1);
}

absl::StatusOr<std::shared_ptr<const Problem>> ProblemCache::Get(const v1::JobSpec& spec) {
  std::string key = ProblemBytes(spec);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = index_.find(key);
    if (it != index_.end()) {
      entries_.splice(entries_.begin(), entries_, it->second);
      return it->second->second;
    }
  }
  // Built outside the lock: a slow build must not stall lookups of other problems.
  auto built = registry_.Create(spec);
  if (!built.ok()) return built.status();
  std::shared_ptr<const Problem> problem = std::move(*built);
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = index_.find(key);
  if (it != index_.end()) {  // another thread built it meanwhile
    entries_.splice(entries_.begin(), entries_, it->second);
    return it->second->second;
  }
  entries_.emplace_front(key, problem);
  index_.emplace(std::move(key), entries_.begin());
  if (entries_.size() > capacity_) {
    index_.erase(entries_.back().first);
    entries_.pop_back();
  }
  return problem;
}

v1::ProblemDescription ProblemCache::Describe(const v1::JobSpec& spec) {
  v1::ProblemDescription description;
  description.set_domain(registry_.DomainOf(spec));
  if (auto problem = Get(spec); problem.ok()) {
    for (const auto& name : (*problem)->ObjectiveNames()) description.add_objective_names(name);
    for (auto& display : (*problem)->ObjectiveDisplays()) {
      *description.add_objectives() = std::move(display);
    }
  }
  return description;
}

size_t ProblemCache::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.size();
}

}  // namespace evolv
