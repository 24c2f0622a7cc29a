// A device's identities: one Ed25519 key pair per user, one file per user under
// the home folder (keys/<user>.key, mode 0600). The private key never leaves it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace parley {

/// An Ed25519 key pair.
class identity {
public:
  /// A new random key pair.
  static identity generate();

  /// From libsodium's 64-byte secret key (seed followed by public key).
  static std::optional<identity> from_secret(std::string_view secret);

  const std::string& public_key() const noexcept {
    return public_key_;
  }

  const std::string& secret_key() const noexcept {
    return secret_key_;
  }

  /// A detached 64-byte signature over `message`.
  std::string sign(std::string_view message) const;

private:
  std::string public_key_;  // 32 bytes
  std::string secret_key_;  // 64 bytes
};

class keystore {
public:
  /// `home` is created (mode 0700) when a key is first saved.
  explicit keystore(std::string home);

  /// The user's identity, if this device has one.
  std::optional<identity> load(std::string_view user) const;

  /// Saves a new identity for `user`; fails (with a reason) rather than
  /// overwrite an existing one.
  bool save(std::string_view user, const identity& id, std::string& error) const;

  std::string key_path(std::string_view user) const;

  const std::string& home() const noexcept {
    return home_;
  }

  /// $PARLEY_HOME, else ~/.parley.
  static std::string default_home();

private:
  std::string home_;
};

} // namespace parley
