#include "services/evolvd/actor_watch.h"

#include <mutex>
#include <utility>

#include "actors/protocol.h"

namespace evolv {

// What the watcher actor and the watch's owner share.
struct ActorWatch::Shared {
  mutable std::mutex mutex;
  bool armed = true;
  std::string failure;
  std::function<void()> on_down;

  void Down(const std::string& name, const std::string& reason) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!armed || !failure.empty()) return;
    failure = name + " went down: " + reason;
    if (on_down) on_down();
  }
};

ActorWatch::ActorWatch(caf::actor_system& system, std::vector<Watched> watched,
                       std::function<void()> on_down)
    : shared_(std::make_shared<Shared>()) {
  shared_->on_down = std::move(on_down);
  watcher_ = system.spawn([shared = shared_, watched = std::move(watched)](
                              caf::event_based_actor* self) -> caf::behavior {
    self->set_down_handler([self, shared, watched](caf::down_msg& down) {
      for (const Watched& w : watched) {
        if (w.actor == down.source) shared->Down(w.name, self->system().render(down.reason));
      }
    });
    for (const Watched& w : watched) self->monitor(w.actor);
    return {[self](stop_atom) { self->quit(); }};
  });
}

ActorWatch::~ActorWatch() { Disarm(); }

void ActorWatch::Disarm() {
  {
    std::lock_guard<std::mutex> lock(shared_->mutex);
    shared_->armed = false;
  }
  caf::anon_send(watcher_, stop_atom::value);
}

std::string ActorWatch::Failure() const {
  std::lock_guard<std::mutex> lock(shared_->mutex);
  return shared_->failure;
}

}  // namespace evolv
