// ActorWatch: watches the actors evolvd cannot serve without (the job manager, the dispatcher)
// from a small actor of its own, so that one that ends while evolvd is not
// shutting down (an exception past every guard, any exit) is noticed at once instead of leaving
// a process that looks alive while every request fails.
//
// While armed, the first watched actor to go down is recorded (Failure(): "job manager went
// down: REASON", the reason as CAF renders it) and `on_down` is called, once, on the watcher's
// thread; later ends change nothing. An actor already down when it is watched counts as going
// down at once. Ends after Disarm (a shutdown stopping them) are expected and ignored. The
// watcher is an ordinary actor: it counts in actor_system::await_all_actors_done until Disarm.
// Thread-safety: Disarm and Failure may be called from any thread; on_down runs under the
// watch's lock, so it is never called after Disarm returns and must not call back into the watch.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "caf/all.hpp"

namespace evolv {

class ActorWatch {
 public:
  struct Watched {
    std::string name;  // how Failure names it: "job manager"
    caf::actor_addr actor;
  };

  ActorWatch(caf::actor_system& system, std::vector<Watched> watched,
             std::function<void()> on_down);
  // Disarms the watch.
  ~ActorWatch();
  ActorWatch(const ActorWatch&) = delete;
  ActorWatch& operator=(const ActorWatch&) = delete;

  // From now on watched actors may end: nothing is recorded, on_down is not called, and the
  // watcher actor quits. Idempotent.
  void Disarm();
  // What went down while armed ("NAME went down: REASON"), or "" when nothing did.
  std::string Failure() const;

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
  caf::actor watcher_;
};

}  // namespace evolv
