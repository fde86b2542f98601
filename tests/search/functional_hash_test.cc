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

TEST(FunctionalHashTest, KeysArePinned) {
  // Stored rows are found by these bytes: a change here orphans every cache row.
  EXPECT_EQ(FunctionalKey("d", "v1", "s", "p").Hex(), "c3bff9509cf979913d2c4563b09eba40");
}

TEST(FunctionalHashTest, ProblemFingerprintHashesDomainVersionAndCanonicalSpec) {
  // xxh3-128 of the three length-prefixed parts, as hex (pinned: workers compare it with the one
  // a coordinator of another build computed).
  EXPECT_EQ(ProblemFingerprint("d", "v1", "s"), "1ca0623d41afde2d329cf340550e069a");
  const std::string base = ProblemFingerprint("d", "v1", "s");
  EXPECT_NE(base, ProblemFingerprint("e", "v1", "s"));
  EXPECT_NE(base, ProblemFingerprint("d", "v2", "s"));
  EXPECT_NE(base, ProblemFingerprint("d", "v1", "t"));
  EXPECT_NE(ProblemFingerprint("ab", "v1", "c"), ProblemFingerprint("a", "v1", "bc"));
}

TEST(FunctionalHashTest, AnInputsDigestIsAFourthPartOnlyWhenNotEmpty) {
  // Problems that read no files keep the three-part fingerprint pinned above.
  EXPECT_EQ(ProblemFingerprint("d", "v1", "s", ""), "1ca0623d41afde2d329cf340550e069a");
  // Pinned like the three-part form: xxh3-128 of the four length-prefixed parts.
  EXPECT_EQ(ProblemFingerprint("d", "v1", "s", "i"), "8924302a5796a995b7a8dd2f53f11ae7");
  EXPECT_NE(ProblemFingerprint("d", "v1", "s", "i"), ProblemFingerprint("d", "v1", "s", "j"));
  EXPECT_NE(ProblemFingerprint("d", "v1", "si", ""), ProblemFingerprint("d", "v1", "s", "i"));
}

}  // namespace
}  // namespace evolv
