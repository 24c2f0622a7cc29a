// The listener: the node's hub, the one broker that holds every client
// connection. It accepts connections and opens a session for each
// (actors/session/session.hpp), up to parley.max-connections; beyond that a
// connection gets tooManyConnections and is closed. What is sent to a session
// (actors/session/session_ref.hpp) comes here and is handed to it.
//
//   (stop_atom)  stops accepting, tells every session to stop (each sends its
//                client a shuttingDown error and closes), and quits
//   (drain_atom) -> ok_atom: stops accepting and tells every session to stop,
//                but keeps running (the node still serves its users' homes)
//   (stats_atom) -> JSON: its mailbox, and an array of every session's figures
//   (stats_atom, id) -> JSON: one session's figures | unavailable
//   (routes_atom, routes_ptr)  a new cluster snapshot for every session
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
