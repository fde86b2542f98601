// ActorWatch with real actors: an actor killed, one that dies of an exception its handler let
// escape (as a job manager would past its guards), one already dead when watched, and ends after
// Disarm, which a shutdown causes and which must not count.
#include "services/evolvd/actor_watch.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <stdexcept>
#include <thread>

#include "actors/protocol.h"

namespace evolv {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// An actor that serves until told to stop, and throws on (tick).
caf::behavior Serving(caf::event_based_actor* self) {
  return {
      [self](stop_atom) { self->quit(); },
      [](tick_atom) { throw std::runtime_error("a bug past every guard"); },
  };
}

// Counts on_down calls and lets a test wait for the first.
struct DownCalls {
  std::atomic<int> count{0};
  std::promise<void> first;
  std::function<void()> Callback() {
    return [this] {
      if (count.fetch_add(1) == 0) first.set_value();
    };
  }
  bool WaitForFirst() { return first.get_future().wait_for(5s) == std::future_status::ready; }
};

// Returns once `actor` has ended.
void AwaitEnd(caf::actor_system& system, const caf::actor& actor) {
  caf::scoped_actor self{system};
  self->monitor(actor);
  self->receive([](const caf::down_msg&) {});
}

class ActorWatchTest : public ::testing::Test {
 protected:
  caf::actor_system_config config_;
  caf::actor_system system_{config_};
};

TEST_F(ActorWatchTest, AKilledActorIsReportedOnceByName) {
  caf::actor manager = system_.spawn(Serving);
  caf::actor dispatcher = system_.spawn(Serving);
  DownCalls calls;
  ActorWatch watch(system_,
                   {{"job manager", manager.address()}, {"dispatcher", dispatcher.address()}},
                   calls.Callback());
  EXPECT_EQ(watch.Failure(), "");
  caf::anon_send_exit(manager, caf::exit_reason::kill);
  ASSERT_TRUE(calls.WaitForFirst());
  EXPECT_THAT(watch.Failure(), StartsWith("job manager went down: "));
  EXPECT_THAT(watch.Failure(), HasSubstr("kill"));
  // A second end changes neither the failure nor the count.
  const std::string first = watch.Failure();
  caf::anon_send_exit(dispatcher, caf::exit_reason::kill);
  AwaitEnd(system_, dispatcher);
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(watch.Failure(), first);
  EXPECT_EQ(calls.count.load(), 1);
  watch.Disarm();
}

TEST_F(ActorWatchTest, AnExceptionThatEndsAnActorIsReported) {
  caf::actor manager = system_.spawn(Serving);
  DownCalls calls;
  ActorWatch watch(system_, {{"job manager", manager.address()}}, calls.Callback());
  caf::anon_send(manager, tick_atom::value);
  ASSERT_TRUE(calls.WaitForFirst());
  EXPECT_THAT(watch.Failure(), StartsWith("job manager went down: "));
  EXPECT_THAT(watch.Failure(), HasSubstr("runtime_error"));
  watch.Disarm();
}

TEST_F(ActorWatchTest, AnActorAlreadyDownWhenWatchedIsReportedAtOnce) {
  caf::actor dispatcher = system_.spawn(Serving);
  caf::anon_send(dispatcher, stop_atom::value);
  AwaitEnd(system_, dispatcher);
  DownCalls calls;
  ActorWatch watch(system_, {{"dispatcher", dispatcher.address()}}, calls.Callback());
  ASSERT_TRUE(calls.WaitForFirst());
  EXPECT_THAT(watch.Failure(), StartsWith("dispatcher went down: "));
  watch.Disarm();
}

TEST_F(ActorWatchTest, EndsAfterDisarmAreIgnoredAndTheWatcherQuits) {
  caf::actor manager = system_.spawn(Serving);
  DownCalls calls;
  ActorWatch watch(system_, {{"job manager", manager.address()}}, calls.Callback());
  watch.Disarm();
  caf::anon_send_exit(manager, caf::exit_reason::user_shutdown);
  AwaitEnd(system_, manager);
  // The watcher quit on Disarm: nothing is left running (this would wait for it otherwise).
  system_.await_all_actors_done();
  EXPECT_EQ(calls.count.load(), 0);
  EXPECT_EQ(watch.Failure(), "");
}

}  // namespace
}  // namespace evolv
