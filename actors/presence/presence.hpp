// Presence: who is online, when each user was last seen, and who wants to know.
//
//   (online_atom, user)           from the registry: the user logged in
//   (offline_atom, user)          from the registry: the user's session ended
//   (heartbeat_atom, users)       from a listener, once a beat: users whose
//                                 sessions heard a heartbeat are alive
//   (last_seen_atom, user)        -> presence_info | unknownUser
//   (watch_atom, user, session_ref)  the session then gets (presence_atom, id,
//                                 presence_info) whenever the user comes or goes
//   (session_ended_atom, session_ref)  from a session that watched: it ended
//   (stop_atom)                   -> ok_atom once pending times went to the store
//
// Last-seen times live in memory while users are online; they are written to the
// store in one batch every parley.presence-flush-interval, and at once when a user
// goes offline. After a crash a user's last seen is at most one interval old.
// It stops on an exit message, writing what is pending first.
#pragma once

#include "actors/config.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace parley {

caf::actor spawn_presence(caf::actor_system& sys, const caf::actor& store,
                          const node_settings& settings);

} // namespace parley
