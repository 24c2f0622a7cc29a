#include "actors/auth/verifier.hpp"

#include "actors/messages.hpp"
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
      [](verify_atom, const std::string& key, const std::string& nonce,
         const std::string& signature) { return valid_proof(key, nonce, signature); },
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
