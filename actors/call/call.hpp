// The call actor: one per node, tracking the calls whose id is homed here
// (rendezvous hash of the call id, so both parties' sessions find the same
// actor). It checks every signal against the call's state machine
// (call_machine.hpp) and passes it to the other party's session, found through
// that user's home registry; a party that is not connected misses it.
//
//   (call_atom, call_signal, session_ref)  -> ok_atom | callInvalid | unknownCall
//   (session_ended_atom, session_ref)  from a session that signalled: it ended
//   (routes_atom, routes_ptr)             where users live (from membership)
//
// A call nobody accepted within parley.call-ring-timeout ends with a timeout
// signal to both parties. A party's session that ends (closed, replaced, or
// its hub gone) hangs up that party's calls. An ended call is remembered for one more
// timeout, to refuse late signals and a reused id, then forgotten.
//
// It holds no durable state; it stops on an exit message.
#pragma once

#include "actors/config.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace parley {

caf::actor spawn_call_actor(caf::actor_system& sys, const node_settings& settings);

} // namespace parley
