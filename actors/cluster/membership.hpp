// The membership actor: this node's view of its cluster.
//
// Every node is given the full member list. A member connects to each member
// whose name sorts after its own (the other side waits for it), through the
// authenticated links of links.hpp; the two then trade their node_actors (hello)
// and monitor each other. A dropped link is seen as a down message (CAF's
// middleman heartbeat catches a frozen peer too) and re-dialled every second.
//
// On every change it hands a new routes snapshot to its subscribers.
//
//   (hello_atom, name, node_actors)  -> node_actors   from a peer's membership
//   (get_atom)                       -> routes_ptr, the current snapshot
//   (subscribe_atom, actor)          the actor gets (routes_atom, routes_ptr) now
//                                    and after every change
//   (stop_atom)                      -> ok_atom once the gate accepts no more
//                                    peers (links stay up until the process ends)
#pragma once

#include "actors/messages.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace parley {

using hello_atom = caf::atom_constant<caf::atom("hello")>;

struct member_address {
  std::string name;
  std::string host;
  uint16_t port = 0;
};

/// Parses "name@host:port".
caf::expected<member_address> parse_member(const std::string& text);

struct cluster_config {
  std::string self;
  std::vector<member_address> members;  // empty: a standalone node
  std::string secret;
};

/// Starts the membership actor; with members, also opens this member's peer
/// address (failing if it cannot) and starts dialling.
caf::expected<caf::actor> spawn_membership(caf::actor_system& sys,
                                           const cluster_config& config,
                                           const node_actors& local);

} // namespace parley
