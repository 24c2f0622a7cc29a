// Login throttling: guessing at login proofs, or flooding the node with logins,
// gets slower the harder it is tried.
//
//   (login_atom, user, address, store) -> identity_key | rateLimited(ms to wait)
//       counts a login attempt from `address`, and refuses users with too many
//       recent failed proofs; a login let through is handed on to the user's
//       `store`, which answers with the user's identity key
//   (failed_atom, user, address)  a proof that did not verify
//
// Per source address: parley.login-rate attempts a second (burst 10x). Per
// user: parley.login-failures failed proofs, then one more per minute. The
// buckets are this node's: a cluster multiplies an attacker's budget by its size.
// Full buckets are forgotten once a minute, so memory follows the active set.
#pragma once

#include "actors/config.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace parley {

using login_atom = caf::atom_constant<caf::atom("login")>;
using failed_atom = caf::atom_constant<caf::atom("failed")>;

caf::actor spawn_throttle(caf::actor_system& sys, const node_settings& settings);

} // namespace parley
