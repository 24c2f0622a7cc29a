// The group directory: one per node, the door to the groups homed here. It
// hands each request to the group's actor, spawning it (which loads the group
// from the store) when the group has none, and stops actors that went idle.
//
//   (group_atom, group_request)    delegated to the group's actor
//   (group_send_atom, group_send, session id, ticket)  from a hub; passed to
//                                  the group's actor with the hub as sender
//   (routes_atom, routes_ptr)      from membership; passed on to group actors
//   (idle_atom, group, uint64 n)   from a group actor that took n requests and
//                                  has nothing to do: stopped if n is all it was
//                                  sent (else a request is on its way to it)
//   (stop_atom)                    -> ok_atom once every group actor stopped
//
// A request for a group homed elsewhere (the routes changed under the session)
// is answered unavailable. It stops on an exit message, taking the group actors
// with it.
#pragma once

#include "actors/config.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace parley {

caf::actor spawn_group_directory(caf::actor_system& sys, caf::actor store,
                                 const node_settings& settings);

} // namespace parley
