#include "services/evolvd/evaluation_queries.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "tests/support/temp_dir.h"
#include "tests/support/toy_problem.h"

namespace evolv {
namespace {

using testing::ToyJob;
using testing::ToyJobOptions;
using testing::ToyRegistry;

// Row `index` of a history: key k, first objective `value`.
CheckpointBatch::HistoryRow Row(const std::string& job, uint64_t index, char k, double value) {
  CheckpointBatch::HistoryRow row;
  row.job_id = job;
  row.entry.set_index(index);
  row.entry.set_key(std::string(16, k));
  row.entry.mutable_evaluation()->set_status(v1::OK);
  row.entry.mutable_evaluation()->add_objectives(value);
  return row;
}

TEST(EvaluationQueriesTest, AProblemsPageHoldsDistinctKeysEvenWhenAHistoryRepeatsItsBest) {
  TempDir dir;
  auto store = Store::Open(dir.path());
  ASSERT_TRUE(store.ok()) << store.status();
  ToyJobOptions a_options, b_options;
  a_options.id = "a";
  b_options.id = "b";
  const v1::JobRecord a = ToyJob(a_options), b = ToyJob(b_options);
  CheckpointBatch batch;
  batch.job = a;
  // Job a served its best key four times from the cache before finding two more.
  for (uint64_t i = 0; i < 4; ++i) batch.history.push_back(Row("a", i, 'x', 1.0));
  batch.history.push_back(Row("a", 4, 'y', 2.0));
  batch.history.push_back(Row("a", 5, 'z', 3.0));
  ASSERT_TRUE((*store)->Commit(batch).ok());
  CheckpointBatch other;
  other.job = b;
  other.history.push_back(Row("b", 0, 'x', 1.0));
  other.history.push_back(Row("b", 1, 'w', 4.0));
  ASSERT_TRUE((*store)->Commit(other).ok());

  ProblemCache problems(ToyRegistry());
  EvaluationQueries queries(**store, problems);
  auto page = queries.ByProblem({a, b}, a.spec(), 0, 0, 3);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->rows_size(), 3);
  std::set<std::string> keys;
  for (const v1::EvaluationRow& row : page->rows()) keys.insert(row.key());
  EXPECT_EQ(keys, (std::set<std::string>{std::string(16, 'x'), std::string(16, 'y'),
                                         std::string(16, 'z')}));
  EXPECT_EQ(page->rows(2).evaluation().objectives(0), 3.0);
  EXPECT_EQ(page->next_page_token(), "3");
  auto next = queries.ByProblem({a, b}, a.spec(), 0, 3, 3);
  ASSERT_TRUE(next.ok()) << next.status();
  ASSERT_EQ(next->rows_size(), 1);
  EXPECT_EQ(next->rows(0).key(), std::string(16, 'w'));
  EXPECT_TRUE(next->next_page_token().empty());
}

}  // namespace
}  // namespace evolv
