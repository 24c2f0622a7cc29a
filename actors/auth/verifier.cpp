#include "actors/auth/verifier.hpp"

#include "actors/messages.hpp"
#include "actors/session/session_ref.hpp"
#include "schema/rules.hpp"

#include <caf/actor_pool.hpp>
#include <caf/all.hpp>
#include <sodium.h>

namespace parley {

namespace {

bool valid_proof(const std::string& key, const std::string& nonce,
                 const std::string& signature) {
  if (key.size() != crypto_sign_PUBLICKEYBYTES
      || signature.size() != crypto_sign_BYTES)
    return false;
  auto message = login_proof_message(nonce);
  return crypto_sign_verify_detached(
           reinterpret_cast<const unsigned char*>(signature.data()),
           reinterpret_cast<const unsigned char*>(message.data()),
           message.size(), reinterpret_cast<const unsigned char*>(key.data()))
         == 0;
}

/// A class rather than a function: CAF 0.17 spawns a function actor without
/// arguments through a null reference (UBSan reports it).
class verifier : public caf::event_based_actor {
public:
  using caf::event_based_actor::event_based_actor;

  caf::behavior make_behavior() override {
    return {
      [this](verify_atom, const std::string& key, const std::string& nonce,
             const std::string& signature, const caf::actor& registry,
             const std::string& user,
             const session_ref& session) -> caf::result<caf::ok_atom> {
        if (!valid_proof(key, nonce, signature))
          return make_error(wire::ErrorCode::BAD_SIGNATURE);
        // The registry answers the session itself: one hop back saved per login.
        delegate(registry, attach_atom::value, user, session);
        return caf::delegated<caf::ok_atom>{};
      },
    };
  }
};

} // namespace

caf::actor spawn_verifier_pool(caf::actor_system& sys, size_t workers) {
  auto factory = [&sys] { return sys.spawn<verifier>(); };
  return caf::actor_pool::make(sys.dummy_execution_unit(), workers, factory,
                               caf::actor_pool::round_robin());
}

} // namespace parley
