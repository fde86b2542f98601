#include "search/functional_hash.h"

#include <gtest/gtest.h>

namespace evolv {
namespace {

TEST(FunctionalHashTest, SameProbeSameKeyAcrossCalls) {
  EXPECT_EQ(FunctionalKey("numerics", "v1", "spec", "abc"), FunctionalKey("numerics", "v1", "spec", "abc"));
}

TEST(FunctionalHashTest, SpecAndDomainKeepProblemsApart) {
  const CacheKey base = FunctionalKey("numerics", "v1", "exp2", "abc");
  EXPECT_NE(base, FunctionalKey("numerics", "v1", "log2", "abc"));
  EXPECT_NE(base, FunctionalKey("solver", "v1", "exp2", "abc"));
  EXPECT_NE(base, FunctionalKey("numerics", "v1", "exp2", "abd"));
  // Field boundaries matter: moving a byte between parts changes the key.
  EXPECT_NE(FunctionalKey("ab", "v1", "c", ""), FunctionalKey("a", "v1", "bc", ""));
}

TEST(FunctionalHashTest, BytesAndHexRoundTrip) {
  const CacheKey key = FunctionalKey("d", "v1", "s", "p");
  CacheKey back;
  ASSERT_TRUE(CacheKey::FromBytes(key.Bytes(), &back));
  EXPECT_EQ(back, key);
  ASSERT_TRUE(CacheKey::FromHex(key.Hex(), &back));
  EXPECT_EQ(back, key);
  EXPECT_EQ(key.Hex().size(), 32u);
  EXPECT_FALSE(CacheKey::FromHex("xyz", &back));
  EXPECT_FALSE(CacheKey::FromBytes("short", &back));
}

TEST(FunctionalHashTest, EvaluationSeedDependsOnKeyAndRepeat) {
  const CacheKey a = FunctionalKey("d", "v1", "s", "p");
  const CacheKey b = FunctionalKey("d", "v1", "s", "q");
  EXPECT_EQ(EvaluationSeed(a, 0), EvaluationSeed(a, 0));
  EXPECT_NE(EvaluationSeed(a, 0), EvaluationSeed(a, 1));
  EXPECT_NE(EvaluationSeed(a, 0), EvaluationSeed(b, 0));
}

}  // namespace
}  // namespace evolv
