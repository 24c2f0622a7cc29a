// The Double Ratchet (Signal's specification, revision 1, section 3), without header
// encryption: a DH ratchet on X25519, symmetric-key ratchets with KDF_CK, and
// per-message keys used once with XChaCha20-Poly1305. The header travels in
// clear and is authenticated together with the session's AD.
//
// The functions follow the specification's pseudocode (RatchetInitAlice,
// RatchetInitBob, RatchetEncrypt, RatchetDecrypt with TrySkippedMessageKeys,
// SkipMessageKeys and DHRatchet). Decryption is transactional: it works on a
// copy of the state and commits it only when the message authenticates, so a
// forged, tampered or replayed message leaves the state as it was.
#pragma once

#include "tools/client/e2e/keys.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::e2e {

/// The most message keys one received message may make us skip in one chain
/// (the specification's MAX_SKIP). A message further ahead is refused.
inline constexpr uint32_t max_skip = 1000;

/// The most skipped message keys a session keeps; beyond it the oldest go.
/// Two full skips (the rest of the old chain and the start of a new one) fit.
inline constexpr size_t max_skipped_keys = 2 * max_skip;

/// HEADER(dh_pair, pn, n).
struct ratchet_header {
  public_key dh{};  // the sender's current ratchet public key
  uint32_t pn = 0;  // messages in the sender's previous sending chain
  uint32_t n = 0;   // this message's number in the current sending chain
};

struct ratchet_message {
  ratchet_header header;
  std::string ciphertext;  // XChaCha20-Poly1305 output, tag included
};

/// One entry of MKSKIPPED.
struct skipped_key {
  public_key dh{};
  uint32_t n = 0;
  key32 key;
};

/// The specification's state variables.
struct ratchet_state {
  x25519_key_pair self;                // DHs
  std::optional<public_key> remote;    // DHr
  key32 root;                          // RK
  std::optional<key32> sending;        // CKs
  std::optional<key32> receiving;      // CKr
  uint32_t ns = 0;                     // Ns
  uint32_t nr = 0;                     // Nr
  uint32_t pn = 0;                     // PN
  std::vector<skipped_key> skipped;    // MKSKIPPED, oldest first
};

/// RatchetInitAlice: SK from X3DH, Bob's signed prekey as his ratchet key.
result<ratchet_state> ratchet_init_initiator(const key32& sk,
                                             const public_key& remote_ratchet_key);

/// RatchetInitBob: SK from X3DH, the signed prekey's pair as the ratchet pair.
ratchet_state ratchet_init_responder(const key32& sk, const x25519_key_pair& own);

/// RatchetEncrypt.
result<ratchet_message> ratchet_encrypt(ratchet_state& state,
                                        std::string_view plaintext,
                                        std::string_view ad);

/// RatchetDecrypt; on failure `state` is unchanged.
result<std::string> ratchet_decrypt(ratchet_state& state, const ratchet_message& msg,
                                    std::string_view ad);

/// What the AEAD authenticates besides the ciphertext: CONCAT(AD, header) =
/// AD || 0x01 (header layout version) || Encode(dh) || pn (4, big-endian) ||
/// n (4, big-endian). parley's AD has a fixed length (66 bytes), which keeps
/// the concatenation unambiguous.
std::string authenticated_data(std::string_view ad, const ratchet_header& header);

} // namespace parley::e2e
