// An end-to-end session with one peer: X3DH to set it up, the Double Ratchet for
// every message, and the envelope around each one. This is what the client
// library calls; x3dh.hpp and ratchet.hpp are the pieces underneath.
//
// Bob, beforehand:    signed_prekey::generate, one_time_prekey::generate; publish
//   encode_published(...) of each, keep encode(...) of each on the device.
// Alice (initiator):  bundle_from_directory(the directory's answer) ->
//   session::initiate(me, bundle) -> encrypt(...) -> payload
//   Until Alice decrypts a reply, each envelope she sends is a prekey message,
//   so Bob can set the session up from whichever of them reaches him first.
// Bob (responder):    decode_envelope(payload) -> a prekey message ->
//   session::accept(me, signed prekey, one-time prekey, message) -> plaintext
//   and a session; the client then deletes the one-time prekey it used.
//   Later prekey messages of the same X3DH run (belongs_to) go to decrypt.
//
// The caller must check that remote_identity() is the identity key it expects
// for the peer (the key directory's, or the one seen before: safety numbers).
//
// Failed decryption leaves the session unchanged. A session is a value: copy it,
// encode it to persist it; its secrets are wiped when it dies. The bytes of
// encode() hold secrets too: store them only on the device.
#pragma once

#include "tools/client/e2e/envelope.hpp"
#include "tools/client/e2e/keys.hpp"
#include "tools/client/e2e/prekeys.hpp"
#include "tools/client/e2e/ratchet.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::e2e {

struct accepted_session;

class session {
public:
  /// Runs X3DH as the initiator with `bundle` (whose signature it verifies:
  /// bad_signature if it does not) and starts the ratchet.
  static result<session> initiate(const identity_key_pair& self,
                                  const prekey_bundle& bundle);

  /// Runs X3DH as the responder for a prekey message and decrypts the ratchet
  /// message inside it. `spk` and `otk` are the prekeys `msg` names
  /// (msg.x3dh.signed_prekey_id, msg.x3dh.one_time_prekey_id); wrong_prekey if
  /// they are not. Nothing is created unless the message decrypts.
  static result<accepted_session> accept(const identity_key_pair& self,
                                         const signed_prekey& spk,
                                         const one_time_prekey* otk,
                                         const prekey_message& msg);

  /// The encoded envelope of `plaintext`: a prekey message while awaiting a
  /// reply, else a ratchet message.
  result<std::string> encrypt(std::string_view plaintext);

  /// The plaintext of an envelope from the peer. A prekey message is accepted
  /// only if it belongs to this session (not_this_session otherwise). On any
  /// failure the session is unchanged.
  result<std::string> decrypt(const envelope& env);

  /// Whether `msg` is a prekey message of the X3DH run that made this session
  /// (same initiator identity, same base key) and this side is its responder.
  bool belongs_to(const prekey_message& msg) const noexcept;

  const public_key& local_identity() const noexcept {
    return local_identity_;
  }
  const public_key& remote_identity() const noexcept {
    return remote_identity_;
  }
  bool initiator() const noexcept {
    return initiator_;
  }
  /// EK_A of the X3DH run that made the session: a responder that remembers the
  /// base keys it accepted can refuse a replayed initial message.
  const public_key& base_key() const noexcept {
    return base_key_;
  }
  /// Whether this side (the initiator) still sends prekey messages.
  bool awaiting_reply() const noexcept {
    return pending_.has_value();
  }
  /// Message keys kept for messages not yet received.
  size_t skipped_keys() const noexcept {
    return ratchet_.skipped.size();
  }

  /// X3DH's AD: Encode(IK_initiator) || Encode(IK_responder).
  std::string ad() const;

  friend std::string encode(const session& x);
  friend result<session> decode_session(std::string_view bytes);

private:
  session() = default;

  /// What the initiator repeats in each prekey message.
  struct pending_prekey {
    uint32_t signed_prekey_id = 0;
    std::optional<uint32_t> one_time_prekey_id;
  };

  public_key local_identity_{};   // Ed25519
  public_key remote_identity_{};  // Ed25519
  public_key base_key_{};         // EK_A of the X3DH run
  bool initiator_ = false;
  ratchet_state ratchet_;
  std::optional<pending_prekey> pending_;
};

/// What accepting a prekey message yields.
struct accepted_session {
  session opened;
  std::string plaintext;
  /// The one-time prekey the message used: delete it now, so that no second
  /// session can be made with it.
  std::optional<uint32_t> used_one_time_prekey;
};

/// Session state, secrets included, for the device's own store.
std::string encode(const session& x);
result<session> decode_session(std::string_view bytes);

} // namespace parley::e2e
