// Prekeys: the signed prekey and the one-time prekeys a user publishes so that
// others can start sessions with them while they are offline, and the bundle a
// key directory hands out (X3DH, section 3.2). The private halves stay on the
// device; encode/decode of them is for the device's own store.
#pragma once

#include "tools/client/e2e/keys.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley::e2e {

/// A public prekey with the id its owner knows it by.
struct public_prekey {
  uint32_t id = 0;
  public_key key{};
};

/// The user's signed prekey, private half included. Replaced every so often
/// (Signal: weekly to monthly); keep the old one a while for late prekey messages.
struct signed_prekey {
  uint32_t id = 0;
  x25519_key_pair pair;
  int64_t signed_at = 0;  // ms since the epoch
  signature sig{};

  /// A fresh key pair signed by `owner`.
  static signed_prekey generate(const identity_key_pair& owner, uint32_t id,
                                int64_t now_ms);

  public_prekey public_part() const {
    return {id, pair.pub};
  }
};

/// A one-time prekey, private half included; deleted once a prekey message that
/// used it has been accepted.
struct one_time_prekey {
  uint32_t id = 0;
  x25519_key_pair pair;

  /// `count` fresh prekeys with ids first_id, first_id + 1, ...
  static std::vector<one_time_prekey> generate(uint32_t first_id, size_t count);

  public_prekey public_part() const {
    return {id, pair.pub};
  }
};

/// What the key directory serves for a user: identity key, signed prekey with its
/// signature, and at most one one-time prekey (none when the supply ran out).
struct prekey_bundle {
  public_key identity_key{};  // Ed25519
  public_prekey signed_key;
  int64_t signed_at = 0;
  signature sig{};
  std::optional<public_prekey> one_time_key;
};

/// The bytes an identity key signs to vouch for a signed prekey:
/// "parley-e2e-v1 signed prekey" || Encode(SPK) || id (4, big-endian) ||
/// signed_at (8, big-endian, two's complement).
std::string signed_prekey_message(const public_prekey& key, int64_t signed_at);

/// The bundle of `owner` with `spk` and, if given, one one-time prekey.
prekey_bundle make_bundle(const identity_key_pair& owner, const signed_prekey& spk,
                          const one_time_prekey* otk = nullptr);

/// Whether the bundle's signature is its identity key's over its signed prekey.
bool verify(const prekey_bundle& bundle);

std::string encode(const prekey_bundle& x);
result<prekey_bundle> decode_bundle(std::string_view bytes);

// -- what is published to the key directory ----------------------------------------
//
// The directory keeps the signed prekey and each one-time prekey as separate
// opaque records, and answers a fetch with the registered identity key and one
// record of each kind; bundle_from_directory puts them together.

/// A signed prekey as others see it.
struct published_signed_prekey {
  public_prekey key;
  int64_t signed_at = 0;
  signature sig{};
};

/// The record to publish for `x` (PublishKeys.signedPrekey).
std::string encode_published(const signed_prekey& x);
result<published_signed_prekey> decode_published_signed_prekey(std::string_view bytes);

/// The record to publish for `x` (an entry of PublishKeys.oneTimePrekeys).
std::string encode_published(const one_time_prekey& x);
result<public_prekey> decode_published_one_time_prekey(std::string_view bytes);

/// The bundle made of a directory's answer: the user's registered Ed25519
/// identity key and the records as published; `one_time_prekey` is empty when
/// the supply ran out. The signature is not checked here (session::initiate
/// does that); malformed if a record is not one.
result<prekey_bundle> bundle_from_directory(std::string_view identity_key,
                                            std::string_view signed_prekey,
                                            std::string_view one_time_prekey);

/// Device-local records; the bytes hold the private key.
std::string encode(const signed_prekey& x);
result<signed_prekey> decode_signed_prekey(std::string_view bytes);
std::string encode(const one_time_prekey& x);
result<one_time_prekey> decode_one_time_prekey(std::string_view bytes);

} // namespace parley::e2e
