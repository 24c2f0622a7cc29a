// The listener: accepts client connections and forks a session for each, up to
// parley.max-connections; beyond that a connection gets tooManyConnections and
// is closed.
//
//   (stop_atom)  stops accepting, tells every session to stop (each sends its
//                client a shuttingDown error and closes), and quits once they are
//                gone, or after a grace period.
//   (drain_atom) -> ok_atom: stops accepting and tells every session to stop,
//                but keeps running (the node still serves its users' homes)
//   (stats_atom) -> JSON array of every session's figures
//   (get_atom)   -> uint64: open sessions
//   (routes_atom, routes_ptr)  a new cluster snapshot, passed on to every session
#pragma once

#include "actors/config.hpp"
#include "actors/session/session.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include <cstdint>

namespace parley {

struct listener_handle {
  caf::actor actor;
  uint16_t port = 0;  // the bound port, also when settings asked for 0
};

caf::expected<listener_handle> spawn_listener(caf::actor_system& sys,
                                              const routes_ptr& routes,
                                              const node_services& services,
                                              const node_settings& settings);

} // namespace parley
