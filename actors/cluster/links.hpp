// Authenticated links between members: the gate accepts peers on this member's
// address, the connector reaches a peer's gate. Both run the cookie handshake on
// a plain socket first (handshake.hpp) and only then hand the socket to CAF's
// BASP broker, so no unauthenticated byte ever reaches BASP. Neither ever opens
// a BASP port of its own.
//
// Both are blocking actors on their own threads: cluster links are few and
// their set-up is rare, and blocking there keeps the multiplexer free.
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include <chrono>
#include <string>
#include <vector>

namespace parley {

using connected_atom = caf::atom_constant<caf::atom("connected")>;
using link_failed_atom = caf::atom_constant<caf::atom("linkfailed")>;

struct link_config {
  std::string self;                  // this member's name
  std::vector<std::string> members;  // every member's name
  std::string secret;
  std::chrono::milliseconds handshake_timeout{2000};
};

/// Opens the listening socket for peers on host:port (start-up fails early if
/// the address is taken). Returns the socket or a reason.
caf::expected<int> open_peer_listener(const std::string& host, uint16_t port);

/// Accepts peers on `listen_fd` (which it owns) and publishes `membership` on
/// every authenticated link. Answers (stop_atom) with ok_atom once it accepts no
/// more (within 200 ms).
caf::actor spawn_gate(caf::actor_system& sys, int listen_fd, uint16_t port,
                      link_config config, caf::actor membership);

/// Tries once to reach member `peer` at host:port; then sends `membership`
/// either (connected_atom, peer, peer_membership_actor) or
/// (link_failed_atom, peer, reason) and quits.
void spawn_connector(caf::actor_system& sys, const std::string& peer,
                     const std::string& host, uint16_t port, link_config config,
                     caf::actor membership);

} // namespace parley
