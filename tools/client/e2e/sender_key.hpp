// Sender keys for group messages, as Signal's groups use them: each member has
// its own chain for each group and hands it, over the pairwise sessions, to
// the other members; a group message is encrypted once, with the next key of
// the sender's chain, and signed with the sender key's signing key, so that a
// member who can decrypt still cannot forge another member's messages.
//
//   chain:      CK(i+1) = HMAC-SHA256(CK(i), 0x02), MK(i) = HMAC-SHA256(CK(i), 0x01)
//   encryption: HKDF(salt 0, MK(i), "parley-e2e-v1 group message key") -> key, nonce;
//               XChaCha20-Poly1305 with AD = the message's header (see
//               group_message_header)
//   signature:  Ed25519 over "parley-e2e-v1 group message" || header || ciphertext
//
// A receiver may be given a chain at any iteration (a member added later gets
// the current one and cannot go back). It derives forward to the iteration a
// message names, keeping the keys it passes for messages still to come (at
// most max_group_skip ahead in one go, max_group_skipped kept). A used key is
// deleted: a replay fails. Failure changes nothing.
//
// Keys are replaced (rotated), never edited: a new key has a new random id, a
// fresh chain and signing key, and is handed only to the members of the moment,
// so a member who left cannot read what follows (docs/e2e.md, "Groups").
#pragma once

#include "tools/client/e2e/keys.hpp"
#include "tools/client/e2e/result.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace parley::e2e {

/// The most keys one message may make a receiver skip.
inline constexpr uint32_t max_group_skip = 2000;

/// The most skipped keys kept per sender key; beyond it the oldest go.
inline constexpr size_t max_group_skipped = 2000;

/// What a member hands the others (SenderKeyDistribution, inside a pairwise
/// message's Content: content.hpp encodes it).
struct sender_key_distribution {
  std::string group;  // 16 bytes
  uint32_t key_id = 0;
  uint32_t iteration = 0;
  key32 chain;
  public_key signing_key{};
};

/// A group message as it travels (SenderKeyMessage).
struct sender_key_message {
  uint32_t key_id = 0;
  uint32_t iteration = 0;
  std::string ciphertext;
  signature sig{};
};

std::string encode(const sender_key_message& x);
result<sender_key_message> decode_sender_key_message(std::string_view bytes);

/// The bytes the AEAD authenticates and the signature covers before the
/// ciphertext: 0x01 (layout version) || group (16) || len(sender) (1) ||
/// sender || key id (4, big-endian) || iteration (4, big-endian).
std::string group_message_header(std::string_view group, std::string_view sender,
                                 uint32_t key_id, uint32_t iteration);

/// One member's sender key for one group.
class sender_key {
public:
  /// A new key of our own for `group` (16 bytes), sent as `sender`.
  static sender_key generate(std::string_view group, std::string_view sender);

  /// Another member's key, from what it handed us.
  static sender_key from_distribution(const sender_key_distribution& d,
                                      std::string_view sender);

  /// What to hand the other members: the chain from the current iteration.
  sender_key_distribution distribution() const;

  /// Encrypts and signs with the next message key (own keys only:
  /// cannot_send otherwise; exhausted at the end of the chain).
  result<std::string> encrypt(std::string_view plaintext);

  /// The plaintext of a message of this key (the caller picked it by group,
  /// sender and key id). bad_signature if the signature does not verify,
  /// too_far_ahead, decrypt_failed (tampered, replayed, or too old); on any
  /// failure the key is unchanged.
  result<std::string> decrypt(const sender_key_message& msg);

  const std::string& group() const noexcept {
    return group_;
  }
  const std::string& sender() const noexcept {
    return sender_;
  }
  uint32_t key_id() const noexcept {
    return key_id_;
  }
  uint32_t iteration() const noexcept {
    return iteration_;
  }
  bool own() const noexcept {
    return has_secret_;
  }
  size_t skipped_keys() const noexcept {
    return skipped_.size();
  }

  friend std::string encode(const sender_key& x);
  friend result<sender_key> decode_sender_key(std::string_view bytes);

private:
  sender_key() = default;

  struct skipped {
    uint32_t iteration = 0;
    key32 key;
  };

  std::string group_;
  std::string sender_;
  uint32_t key_id_ = 0;
  uint32_t iteration_ = 0;  // of chain_
  key32 chain_;
  public_key signing_public_{};
  secret<crypto_sign_SECRETKEYBYTES> signing_secret_;
  bool has_secret_ = false;
  std::vector<skipped> skipped_;  // oldest first
};

/// A sender key with its secrets, for the device's own store only.
std::string encode(const sender_key& x);
result<sender_key> decode_sender_key(std::string_view bytes);

} // namespace parley::e2e
