// Checks login proofs away from the I/O thread.
//
// An Ed25519 verification costs tens of microseconds; done in a session it would
// stall every connection on the middleman's one multiplexer thread. A pool of
// verifier actors (one per core) on the scheduler does it instead.
//
//   (verify_atom, identity_key, nonce, signature, registry, user, session_ref)
//       -> ok_atom | badSignature
//       a proof that holds is handed on to `registry` as (attach_atom, user,
//       session), and the registry's answer is the answer
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <cstddef>

namespace parley {

caf::actor spawn_verifier_pool(caf::actor_system& sys, size_t workers);

} // namespace parley
