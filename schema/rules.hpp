// The rules for the values that appear in frames: names, ids, keys, login proofs.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace parley {

/// A user name is 1-32 characters of [a-z0-9._-].
bool valid_user_name(std::string_view name) noexcept;

constexpr size_t max_user_name = 32;

/// Client-chosen message ids are 16 bytes.
constexpr size_t message_id_bytes = 16;

/// Ed25519 public keys and signatures.
constexpr size_t identity_key_bytes = 32;
constexpr size_t signature_bytes = 64;

/// The login challenge: a random nonce, signed after this context string so a
/// login signature cannot be replayed as a signature over anything else.
constexpr size_t nonce_bytes = 32;
constexpr std::string_view login_context = "parley-login-v1";

/// The bytes a client signs to prove its identity: login_context, then nonce.
std::string login_proof_message(std::string_view nonce);

} // namespace parley
