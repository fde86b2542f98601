// evolvd's health check (ServiceCore::Health, behind /healthz) over real parts: a Store on disk,
// a dispatcher with local workers and a job manager. Healthy while every part answers; once the
// job manager or the dispatcher is stopped, Unavailable naming that part alone, within about the
// probes' timeouts.
#include "services/evolvd/health.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>

#include "actors/job_manager.h"
#include "actors/local_runtime.h"
#include "services/evolvd/metrics.h"
#include "services/evolvd/service_core.h"
#include "tests/support/temp_dir.h"
#include "tests/support/toy_problem.h"

namespace evolv {
namespace {

using namespace std::chrono_literals;

class HealthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Store::Open(dir_.path());
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    runtime_ = std::make_unique<LocalRuntime>(1, testing::ToyRegistry());
    manager_ = SpawnJobManager(runtime_->system(), store_.get(), testing::ToyRegistry(),
                               runtime_->dispatcher());
    core_ = std::make_unique<ServiceCore>(store_.get(), testing::ToyRegistry(), runtime_->system(),
                                          manager_, runtime_->dispatcher(), metrics_);
  }

  void TearDown() override {
    core_.reset();
    caf::anon_send_exit(manager_, caf::exit_reason::user_shutdown);
    manager_ = nullptr;
    runtime_.reset();
  }

  // Stops `actor` and waits until it is gone.
  template <class Handle>
  void StopAndWait(const Handle& actor) {
    caf::scoped_actor self{runtime_->system()};
    self->monitor(actor);
    caf::anon_send_exit(actor, caf::exit_reason::kill);
    self->receive([](caf::down_msg&) {});
  }

  // core_->Health(), checking that it answered within two probe timeouts and some slack.
  absl::Status TimedHealth() {
    const auto start = std::chrono::steady_clock::now();
    absl::Status health = core_->Health();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2 * HealthCheck::kDefaultTimeout + 500ms);
    return health;
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<LocalRuntime> runtime_;
  job_manager_actor manager_;
  ServiceMetrics metrics_;
  std::unique_ptr<ServiceCore> core_;
};

TEST_F(HealthTest, HealthyWhileEveryPartAnswers) {
  EXPECT_TRUE(TimedHealth().ok());
  EXPECT_TRUE(TimedHealth().ok());  // a second check reads the store again
}

TEST_F(HealthTest, AStoppedJobManagerIsNamedAndNothingElse) {
  StopAndWait(manager_);
  const absl::Status health = TimedHealth();
  EXPECT_EQ(health.code(), absl::StatusCode::kUnavailable) << health;
  EXPECT_EQ(health.message().rfind("job manager: ", 0), 0u) << health;
  EXPECT_EQ(health.message().find("dispatcher"), std::string::npos) << health;
  EXPECT_EQ(health.message().find("store"), std::string::npos) << health;
}

TEST_F(HealthTest, AStoppedDispatcherIsNamedAndNothingElse) {
  StopAndWait(runtime_->dispatcher());
  const absl::Status health = TimedHealth();
  EXPECT_EQ(health.code(), absl::StatusCode::kUnavailable) << health;
  EXPECT_EQ(health.message().rfind("dispatcher: ", 0), 0u) << health;
  EXPECT_EQ(health.message().find("job manager"), std::string::npos) << health;
}

}  // namespace
}  // namespace evolv
