// The registry: the session through which each user homed on this node is
// connected now.
//
// A user has at most one session: a new login replaces the old one, which is sent
// (kick_atom, wire::ErrorCode replaced) and closes. The registry monitors every
// session it held, replaced ones too, and tells presence when a user comes online
// and goes offline, and the store when any of them ends (session_ended_atom,
// its address): the session's subscription goes with it. The registry's monitor
// also fires when the member a session was on is lost, so the store needs none
// of its own.
//
//   (attach_atom, user, session)  -> ok_atom
//   (kick_atom, user)             -> bool: whether a session was kicked (its
//                                    client gets kicked and is closed)
//   (stats_atom)                  -> JSON: mailbox, users connected
//   (get_atom, user)              -> the user's session, or an invalid handle
//
// It holds no durable state; it stops on an exit message.
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace parley {

caf::actor spawn_registry(caf::actor_system& sys, const caf::actor& presence,
                          const caf::actor& store);

} // namespace parley
