// The registry: the session through which each user homed on this node is
// connected now.
//
// A user has at most one session: a new login replaces the old one, which is sent
// (kick_atom, wire::ErrorCode replaced) and closes. A session tells the
// registry it attached to when it ends; the registry monitors the sessions'
// hubs, so the sessions of a hub that stopped or whose member was lost end
// too. It tells presence when a user comes online and goes offline, and the
// store when any session ends: the session's subscription goes with it.
//
//   (attach_atom, user, session_ref)         -> ok_atom
//   (session_ended_atom, user, session_ref)  from the session, as it ends
//   (kick_atom, user)             -> bool: whether a session was kicked (its
//                                    client gets kicked and is closed)
//   (stats_atom)                  -> JSON: mailbox, users connected
//   (get_atom, user)              -> the user's session_ref, or an empty one
//
// It holds no durable state; it stops on an exit message.
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace parley {

caf::actor spawn_registry(caf::actor_system& sys, const caf::actor& presence,
                          const caf::actor& store);

} // namespace parley
