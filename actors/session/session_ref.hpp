// How other actors address a session: the hub (the node's one client broker)
// and the session's id there. Sessions are not actors: one broker for every
// connection keeps a logged-in user at a fraction of what a broker each costs
// (docs/BENCHMARKS.md, row 48).
//
// What a session is sent goes to its hub, with the id second:
//   (deliver_atom, id, inbox_items)   (prekeys_low_atom, id, uint32)
//   (presence_atom, id, presence_info) (call_atom, id, call_signal)
//   (kick_atom, id, uint8 error code)  (stats_atom, id) -> JSON
//   (sent_atom, id, ticket, int64 time | error)  the answer to a send, from
//                                                the store or a group actor
// A message for an id that has gone is dropped (a request gets an error).
//
// Holders learn that a session ended from (session_ended_atom, ..., ref), which
// the session sends as it ends to every actor it registered with, and that a
// whole hub is gone (its node stopped or was lost) from a monitor on the hub:
// one per hub and holder, not one per session.
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <functional>
#include <unordered_set>

namespace parley {

struct session_ref {
  caf::actor hub;
  uint64_t id = 0;  // never reused by its hub

  explicit operator bool() const noexcept {
    return static_cast<bool>(hub);
  }

  friend bool operator==(const session_ref& x, const session_ref& y) noexcept {
    return x.id == y.id && x.hub == y.hub;
  }

  friend bool operator!=(const session_ref& x, const session_ref& y) noexcept {
    return !(x == y);
  }

  /// Sends `xs...` to the session: its hub gets (atom, id, rest...).
  template <class Self, class Atom, class... Ts>
  void tell(Self* self, Atom atom, Ts&&... xs) const {
    self->send(hub, atom, id, std::forward<Ts>(xs)...);
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_ref& x) {
  return f(caf::meta::type_name("parley.session_ref"), x.hub, x.id);
}

/// Ids are unique within a hub, and hubs are few: the id alone spreads well.
struct session_ref_hash {
  size_t operator()(const session_ref& x) const noexcept {
    return std::hash<uint64_t>{}(x.id);
  }
};

/// The hubs an actor holds sessions of, each monitored once.
class hub_monitors {
public:
  /// Monitors the hub of `session` unless it already does.
  template <class Self>
  void watch(Self* self, const session_ref& session) {
    if (hubs_.insert(session.hub.address()).second)
      self->monitor(session.hub);
  }

  /// Whether a down message from `source` is a hub's (which is then forgotten,
  /// so that a session there later is monitored anew).
  bool gone(const caf::actor_addr& source) {
    return hubs_.erase(source) > 0;
  }

private:
  std::unordered_set<caf::actor_addr> hubs_;
};

} // namespace parley
