// A group's actor: one per active group, on the group's home node, spawned by
// that node's group directory. It alone changes its group, so it takes the
// requests about it in order, and its fan-outs leave in that order.
//
//   (group_atom, group_request)    -> group_state (without pending notices)
//                                     | unknownGroup, notGroupMember,
//                                     notGroupAdmin, groupTooLarge, groupExists,
//                                     unknownUser, unavailable
//   (group_send_atom, group_send, session id, ticket)  from a hub, answered
//                                     with a message, as the store answers an
//                                     append (store.hpp): (sent_atom, session
//                                     id, ticket, int64 time it was sent, once
//                                     every recipient's home store has it
//                                     durably | staleGroup, notGroupMember,
//                                     inboxFull, unavailable)
//   (routes_atom, routes_ptr)         where members live (from the directory)
//
// Changes (create, add, remove, leave, promote) are written to the store, with
// the notice telling the members, before they are answered; the notice is then
// fanned out and retried until every recipient's home has it (a restart finds
// it in the group's record and sends it again; stores deduplicate it).
//
// A group message is entered into the group's ledger in its home store first
// (recipients: the members but the sender, fixed from then on), then fanned out
// (fanout.hpp). A retransmission finds the ledger entry and goes to the same
// recipients, whatever the group became meanwhile.
//
// It stops when its directory says so, after it reported being idle for
// parley.group-idle-timeout with nothing in progress (at once if the group does
// not exist; the directory checks that nothing was sent its way since), or on
// an exit message.
#pragma once

#include "actors/cluster/routes.hpp"
#include "actors/config.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <string>

namespace parley {

using idle_atom = caf::atom_constant<caf::atom("idle")>;

/// Spawns the actor of `group` (hex id). `store` is this node's store,
/// `directory` gets (idle_atom, group, uint64 requests received) when idle.
caf::actor spawn_group(caf::actor_system& sys, std::string group, caf::actor store,
                       caf::actor directory, routes_ptr routes,
                       const node_settings* settings);

} // namespace parley
