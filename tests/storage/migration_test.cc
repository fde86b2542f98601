// Stores written by schema version 1 (one JobSpec and Candidate field per built-in domain) are
// upgraded in place when opened with the registry's schema-1 fields, and refused unchanged
// without them.
#include <gtest/gtest.h>

#include <rocksdb/db.h>

#include "evaluators/registry.h"
#include "evolv/v1/numerics.pb.h"
#include "google/protobuf/unknown_field_set.h"
#include "search/problem.h"
#include "storage/key_encoding.h"
#include "storage/store.h"
#include "tests/support/temp_dir.h"

namespace evolv {
namespace {

// Appends `message` as a length-delimited field `number` that the current schema does not know,
// which is how schema 1 carried domain messages.
void AddLegacyField(google::protobuf::Message* holder, int number,
                    const google::protobuf::Message& message) {
  holder->GetReflection()->MutableUnknownFields(holder)->AddLengthDelimited(
      number, message.SerializeAsString());
}

v1::NumericsSpec Exp2() {
  v1::NumericsSpec spec;
  spec.set_target("exp2");
  spec.set_lower(0);
  spec.set_upper(1);
  spec.set_max_ops(6);
  return spec;
}

v1::NumericsProgram TwoX() {
  v1::NumericsProgram program;
  program.add_constants(2.0);
  auto* mul = program.add_instructions();
  mul->set_op(v1::MUL);
  mul->set_a(0);
  mul->set_b(1);
  return program;
}

// Writes a job, its history and a cache row the way schema 1 did, then marks the store as 1.
void WriteSchemaV1Store(const std::string& dir) {
  {
    auto store = Store::Open(dir);
    ASSERT_TRUE(store.ok()) << store.status();
    v1::JobRecord job;
    job.set_id("old");
    job.set_state(v1::RUNNING);
    job.mutable_spec()->mutable_budget()->set_max_evaluations(10);
    AddLegacyField(job.mutable_spec(), 10, Exp2());
    CheckpointBatch batch;
    batch.job = job;
    v1::HistoryEntry entry;
    entry.set_index(0);
    entry.set_key(std::string(16, 'k'));
    AddLegacyField(entry.mutable_candidate(), 1, TwoX());
    entry.mutable_evaluation()->set_status(v1::OK);
    AddLegacyField(entry.mutable_evaluation()->mutable_refined(), 1, TwoX());
    batch.history.push_back({"old", entry});
    v1::CachedEvaluation row;
    AddLegacyField(row.mutable_candidate(), 1, TwoX());
    row.mutable_evaluation()->set_status(v1::OK);
    batch.cache.push_back({std::string(16, 'k'), row});
    ASSERT_TRUE((*store)->Commit(batch).ok());
  }
  rocksdb::DB* raw = nullptr;
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names).ok());
  for (const auto& name : names) families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::DBOptions(), dir, families, &handles, &raw).ok());
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == storage_keys::kMetaColumnFamily) {
      ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), handles[i], storage_keys::kSchemaVersionKey, "1").ok());
    }
  }
  for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
  delete raw;
}

StoreOptions Upgrading() {
  StoreOptions options;
  options.schema_v1.job_spec = BuiltinProblems().SchemaV1JobSpecFields();
  options.schema_v1.candidate = BuiltinProblems().SchemaV1CandidateFields();
  return options;
}

TEST(SchemaMigrationTest, WithoutTheFieldsASchema1StoreIsRefusedUnchanged) {
  TempDir dir;
  WriteSchemaV1Store(dir.path());
  auto refused = Store::Open(dir.path());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("schema version 1"), std::string::npos)
      << refused.status();
  // Still schema 1: an upgrading open works afterwards.
  EXPECT_TRUE(Store::Open(dir.path(), Upgrading()).ok());
}

TEST(SchemaMigrationTest, JobsHistoryAndCacheRowsAreUpgradedInPlace) {
  TempDir dir;
  WriteSchemaV1Store(dir.path());
  {
    auto store = Store::Open(dir.path(), Upgrading());
    ASSERT_TRUE(store.ok()) << store.status();
    auto job = (*store)->GetJob("old");
    ASSERT_TRUE(job.ok());
    ASSERT_TRUE(job->spec().has_problem());
    auto problem = BuiltinProblems().Create(job->spec());
    ASSERT_TRUE(problem.ok()) << problem.status();
    EXPECT_EQ((*problem)->Domain(), "numerics");
    EXPECT_EQ(job->spec().budget().max_evaluations(), 10u);

    auto history = (*store)->ReadHistory("old");
    ASSERT_TRUE(history.ok());
    ASSERT_EQ(history->size(), 1u);
    v1::NumericsProgram program;
    ASSERT_TRUE(UnpackCandidate((*history)[0].candidate(), &program));
    EXPECT_EQ(program.SerializeAsString(), TwoX().SerializeAsString());
    ASSERT_TRUE(UnpackCandidate((*history)[0].evaluation().refined(), &program));

    auto row = (*store)->GetEvaluation(std::string(16, 'k'));
    ASSERT_TRUE(row.ok());
    ASSERT_TRUE(UnpackCandidate(row->candidate(), &program));
  }
  // Upgraded for good: a plain open reads it now.
  auto reopened = Store::Open(dir.path());
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_TRUE((*reopened)->GetJob("old")->spec().has_problem());
}

}  // namespace
}  // namespace evolv
