#include "services/client/client.h"

#include <gtest/gtest.h>

namespace evolv {
namespace {

TEST(ClientTest, AHostWithoutAPortGetsEvolvdsDefaultPort) {
  EXPECT_EQ(WithDefaultPort("localhost"), "localhost:50051");
  EXPECT_EQ(WithDefaultPort("10.0.0.5"), "10.0.0.5:50051");
  EXPECT_EQ(WithDefaultPort("[::1]"), "[::1]:50051");
  // A port, a bare IPv6 address or a gRPC target with a scheme is taken as written.
  EXPECT_EQ(WithDefaultPort("localhost:7000"), "localhost:7000");
  EXPECT_EQ(WithDefaultPort("[::1]:7000"), "[::1]:7000");
  EXPECT_EQ(WithDefaultPort("::1"), "::1");
  EXPECT_EQ(WithDefaultPort("unix:/run/evolvd.sock"), "unix:/run/evolvd.sock");
}

}  // namespace
}  // namespace evolv
