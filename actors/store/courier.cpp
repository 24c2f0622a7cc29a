#include "actors/store/courier.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

namespace parley {

namespace {

/// A class rather than a function: CAF 0.17 spawns a function actor without
/// arguments through a null reference (UBSan reports it).
class courier : public caf::io::broker {
public:
  using caf::io::broker::broker;

  caf::behavior make_behavior() override {
    return {
      [this](parcels& batch) {
        for (auto& p : batch.items)
          p.to->enqueue(batch.from, p.id, std::move(p.content), context());
      },
    };
  }
};

} // namespace

caf::actor spawn_courier(caf::actor_system& sys) {
  // As the middleman spawns class-based brokers: hosted by its multiplexer.
  caf::actor_config cfg{&sys.middleman().backend()};
  return sys.spawn_class<courier, caf::no_spawn_options>(cfg);
}

} // namespace parley
