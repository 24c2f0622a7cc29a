// X3DH key agreement (Signal's specification, revision 1): the initiator (Alice)
// derives a shared secret SK from the responder's (Bob's) prekey bundle; the
// responder derives the same SK from its private keys and the header of
// Alice's initial message. Both get AD = Encode(IK_A) || Encode(IK_B).
//
//   DH1 = DH(IK_A, SPK_B)   DH2 = DH(EK_A, IK_B)   DH3 = DH(EK_A, SPK_B)
//   DH4 = DH(EK_A, OPK_B)   (only when the bundle had a one-time prekey)
//   SK  = KDF(DH1 || DH2 || DH3 [|| DH4])          (kdf::x3dh)
//
// Identity keys are Ed25519; their X25519 forms take part in DH1 and DH2.
#pragma once

#include "tools/client/e2e/keys.hpp"
#include "tools/client/e2e/prekeys.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace parley::e2e {

/// What the initiator tells the responder in its initial message.
struct x3dh_header {
  public_key identity_key{};  // IK_A, Ed25519
  public_key base_key{};      // EK_A, X25519
  uint32_t signed_prekey_id = 0;
  std::optional<uint32_t> one_time_prekey_id;
};

/// The agreed secret and associated data.
struct x3dh_secret {
  key32 shared;    // SK
  std::string ad;  // Encode(IK_A) || Encode(IK_B), 66 bytes
};

/// The initiator's outcome: the secret, the header to send, and Bob's signed
/// prekey, which is his first ratchet public key.
struct x3dh_initiated {
  x3dh_secret secret;
  x3dh_header header;
  public_key remote_ratchet_key{};
};

/// Alice's side. Verifies the signed prekey's signature first: bad_signature if
/// it does not verify, bad_key if a key is unusable. The ephemeral private key
/// is wiped before this returns.
result<x3dh_initiated> x3dh_initiate(const identity_key_pair& self,
                                     const prekey_bundle& bundle);

/// Bob's side, with the signed prekey and (if the header names one) the
/// one-time prekey it names; wrong_prekey if they are not the ones named.
result<x3dh_secret> x3dh_respond(const identity_key_pair& self,
                                 const signed_prekey& spk,
                                 const one_time_prekey* otk,
                                 const x3dh_header& header);

/// AD = Encode(IK_A) || Encode(IK_B), Ed25519 identity keys.
std::string x3dh_ad(const public_key& initiator, const public_key& responder);

} // namespace parley::e2e
