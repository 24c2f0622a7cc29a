// The courier: hands the store's answers and pushes to sessions from the
// multiplexer's own thread, a whole group commit's worth at once.
//
// Sessions live in the listener, a broker run by the multiplexer thread. A
// message another thread sends to an idle broker costs a write to the
// multiplexer's wakeup pipe, its read, and often a context switch; one per
// answer and per push is most of the syscalls of a lightly loaded node. The store sends the courier (also a
// broker) one batch per commit instead, and the courier's own enqueues, made on
// that thread, cost none.
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/message.hpp>
#include <caf/message_id.hpp>

#include <vector>

namespace parley {

/// One message for one actor: an asynchronous one, or the response to a
/// request (its id is the request's response id).
struct parcel {
  caf::strong_actor_ptr to;
  caf::message_id id;
  caf::message content;
};

/// Parcels in the order they are to be enqueued, all from `from`.
struct parcels {
  caf::strong_actor_ptr from;
  std::vector<parcel> items;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, parcel& x) {
  return f(caf::meta::type_name("parley.parcel"), x.to, x.id, x.content);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, parcels& x) {
  return f(caf::meta::type_name("parley.parcels"), x.from, x.items);
}

/// A courier on the multiplexer thread; it stops when an actor linked to it
/// stops with an error or a shutdown.
caf::actor spawn_courier(caf::actor_system& sys);

} // namespace parley
