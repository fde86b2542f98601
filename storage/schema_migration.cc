#include "storage/schema_migration.h"

#include "evolv/v1/job.pb.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/unknown_field_set.h"

namespace evolv {
namespace {

// Moves the first length-delimited unknown field of `message` listed in `types` into `any`.
bool MoveIntoAny(google::protobuf::Message* message, const std::map<int, std::string>& types,
                 google::protobuf::Any* any) {
  google::protobuf::UnknownFieldSet* unknown =
      message->GetReflection()->MutableUnknownFields(message);
  for (int i = 0; i < unknown->field_count(); ++i) {
    const google::protobuf::UnknownField& field = unknown->field(i);
    auto type = types.find(field.number());
    if (type == types.end() || field.type() != google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED) {
      continue;
    }
    any->set_type_url("type.googleapis.com/" + type->second);
    any->set_value(field.length_delimited());
    unknown->DeleteSubrange(i, 1);
    return true;
  }
  return false;
}

}  // namespace

bool UpgradeFromSchemaV1(google::protobuf::Message* message, const SchemaV1Fields& fields) {
  bool changed = false;
  const google::protobuf::Descriptor* descriptor = message->GetDescriptor();
  if (descriptor == v1::JobSpec::descriptor()) {
    auto* spec = static_cast<v1::JobSpec*>(message);
    if (!spec->has_problem()) changed |= MoveIntoAny(spec, fields.job_spec, spec->mutable_problem());
  } else if (descriptor == v1::Candidate::descriptor()) {
    auto* candidate = static_cast<v1::Candidate*>(message);
    if (!candidate->has_value()) {
      changed |= MoveIntoAny(candidate, fields.candidate, candidate->mutable_value());
    }
    return changed;
  }
  const google::protobuf::Reflection* reflection = message->GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = descriptor->field(i);
    if (field->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE || field->is_map()) {
      continue;
    }
    if (field->is_repeated()) {
      for (int k = 0; k < reflection->FieldSize(*message, field); ++k) {
        changed |= UpgradeFromSchemaV1(reflection->MutableRepeatedMessage(message, field, k), fields);
      }
    } else if (reflection->HasField(*message, field)) {
      changed |= UpgradeFromSchemaV1(reflection->MutableMessage(message, field), fields);
    }
  }
  return changed;
}

}  // namespace evolv
