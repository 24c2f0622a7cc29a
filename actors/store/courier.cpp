#include "actors/store/courier.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

namespace parley {

namespace {

caf::behavior courier_impl(caf::io::broker* self) {
  return {
    [self](parcels& batch) {
      for (auto& p : batch.items)
        p.to->enqueue(batch.from, p.id, std::move(p.content), self->context());
    },
  };
}

} // namespace

caf::actor spawn_courier(caf::actor_system& sys) {
  return sys.middleman().spawn_broker(courier_impl);
}

} // namespace parley
