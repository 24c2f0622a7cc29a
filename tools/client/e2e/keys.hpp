// Key types of the end-to-end encryption library: secrets that wipe themselves,
// X25519 key pairs for Diffie-Hellman, and the user's Ed25519 identity seen both
// as a signing key and, converted, as an X25519 key for X3DH (docs/e2e.md).
//
// libsodium must be initialised (sodium_init) before any of this is used.
#pragma once

#include "tools/client/e2e/result.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::e2e {

/// N bytes of secret key material, zeroed with sodium_memzero when it dies.
/// Copyable on purpose: decryption works on a copy of the session state.
template <size_t N>
class secret {
public:
  secret() noexcept {
    bytes_.fill(0);
  }
  secret(const secret&) = default;
  secret& operator=(const secret&) = default;
  ~secret() {
    sodium_memzero(bytes_.data(), N);
  }

  /// Nothing unless `bytes` has exactly N bytes.
  static std::optional<secret> from(std::string_view bytes) {
    if (bytes.size() != N)
      return std::nullopt;
    secret x;
    std::copy(bytes.begin(), bytes.end(), x.bytes_.begin());
    return x;
  }

  static constexpr size_t size() noexcept {
    return N;
  }
  unsigned char* data() noexcept {
    return bytes_.data();
  }
  const unsigned char* data() const noexcept {
    return bytes_.data();
  }
  std::string_view view() const noexcept {
    return {reinterpret_cast<const char*>(bytes_.data()), N};
  }

  /// Constant-time comparison.
  bool operator==(const secret& other) const noexcept {
    return sodium_memcmp(bytes_.data(), other.bytes_.data(), N) == 0;
  }
  bool operator!=(const secret& other) const noexcept {
    return !(*this == other);
  }

private:
  std::array<unsigned char, N> bytes_;
};

using key32 = secret<32>;

/// A 32-byte public key: X25519 or Ed25519, as the name of the field says.
using public_key = std::array<unsigned char, 32>;

/// A detached Ed25519 signature.
using signature = std::array<unsigned char, crypto_sign_BYTES>;

inline std::string_view view(const public_key& x) noexcept {
  return {reinterpret_cast<const char*>(x.data()), x.size()};
}

inline std::string_view view(const signature& x) noexcept {
  return {reinterpret_cast<const char*>(x.data()), x.size()};
}

/// Nothing unless `bytes` has exactly 32 bytes.
std::optional<public_key> to_public_key(std::string_view bytes);

/// Nothing unless `bytes` has exactly 64 bytes.
std::optional<signature> to_signature(std::string_view bytes);

/// X3DH's Encode(PK) for an X25519 key: 0x05 followed by the 32 bytes.
std::string encode_x25519(const public_key& key);

/// The same for an Ed25519 identity key: 0xED followed by the 32 bytes.
std::string encode_ed25519(const public_key& key);

/// DH(mine, theirs) on X25519; bad_key if the result is all zeros (a
/// low-order public key).
result<key32> x25519(const key32& mine, const public_key& theirs);

/// An Ed25519 public key as an X25519 public key (birational map); bad_key if
/// it is not a valid Ed25519 point.
result<public_key> ed25519_to_x25519(const public_key& ed25519);

/// An X25519 key pair: DH ratchet keys, prekeys, X3DH ephemeral keys.
struct x25519_key_pair {
  public_key pub{};
  key32 priv;

  /// A fresh random pair.
  static x25519_key_pair generate();

  /// The pair of a known private key.
  static x25519_key_pair from_secret(const key32& priv);
};

/// The user's identity: the Ed25519 key pair of the keystore (the one the node
/// knows and checks at login), with its X25519 form for X3DH's DH1 and DH2.
class identity_key_pair {
public:
  /// From libsodium's 64-byte Ed25519 secret key (keystore's
  /// identity::secret_key()); bad_key if it is not one.
  static result<identity_key_pair> from_ed25519(std::string_view secret_key);

  /// A fresh random identity (tests and new users).
  static identity_key_pair generate();

  const public_key& ed25519_public() const noexcept {
    return ed_public_;
  }
  const public_key& x25519_public() const noexcept {
    return x_public_;
  }
  const key32& x25519_secret() const noexcept {
    return x_secret_;
  }

  /// A detached Ed25519 signature over `message`.
  signature sign(std::string_view message) const;

private:
  identity_key_pair() = default;

  secret<crypto_sign_SECRETKEYBYTES> ed_secret_;
  public_key ed_public_{};
  key32 x_secret_;
  public_key x_public_{};
};

} // namespace parley::e2e
