// The admin port: where parley-shell connects. Loopback by default, and open
// only to a client that proves it holds the cluster's secret (the handshake of
// actors/cluster/handshake.hpp, with the client named "shell").
//
// After the handshake the client sends one command per line and gets one JSON
// document per line from the admin actor. Each connection is served by its own
// small blocking actor (operators are few); the port answers (stop_atom) with
// ok_atom once it accepts no more, and tells its connections to end.
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include <cstdint>
#include <string>

namespace parley {

struct admin_port_handle {
  caf::actor actor;
  uint16_t port = 0;  // the bound port
};

/// Listens on host:port (0: any) for shells; `node_name` is what it answers
/// the handshake as.
caf::expected<admin_port_handle> spawn_admin_port(caf::actor_system& sys,
                                                  const std::string& host, uint16_t port,
                                                  const std::string& node_name,
                                                  const std::string& secret,
                                                  caf::actor admin);

} // namespace parley
