// Key derivation: HMAC-SHA256 and HKDF-SHA256 (RFC 5869) on libsodium's
// crypto_auth_hmacsha256, and the four KDFs of X3DH and the Double Ratchet built
// on them. The info strings are part of the protocol (docs/e2e.md): changing one
// makes every device of the old version unable to talk to the new one.
#pragma once

#include "tools/client/e2e/keys.hpp"

#include <cstddef>
#include <string_view>

namespace parley::e2e::kdf {

/// HKDF info of X3DH's KDF.
inline constexpr std::string_view x3dh_info = "parley-e2e-v1 X3DH";

/// HKDF info of the Double Ratchet's KDF_RK.
inline constexpr std::string_view root_info = "parley-e2e-v1 root chain";

/// HKDF info that expands a message key into an AEAD key and nonce.
inline constexpr std::string_view message_info = "parley-e2e-v1 message key";

/// HMAC-SHA256(key, data); `key` may have any length.
key32 hmac_sha256(std::string_view key, std::string_view data);

/// HKDF-Extract(salt, ikm); an empty salt means 32 zero bytes.
key32 hkdf_extract(std::string_view salt, std::string_view ikm);

/// HKDF-Expand(prk, info) into `out[0, size)`; false (and nothing written) when
/// `size` is more than 255 * 32.
bool hkdf_expand(const key32& prk, std::string_view info, unsigned char* out,
                 size_t size);

/// Extract then expand.
bool hkdf(std::string_view salt, std::string_view ikm, std::string_view info,
          unsigned char* out, size_t size);

/// X3DH's KDF: HKDF with salt = 32 zero bytes, ikm = F || km where F is 32
/// 0xFF bytes, info = x3dh_info, 32 bytes out. `km` is DH1 || DH2 || DH3 [|| DH4].
key32 x3dh(std::string_view km);

/// KDF_RK(rk, dh_out): HKDF with salt = rk, ikm = dh_out, info = root_info, 64
/// bytes out: the new root key, then the new chain key.
struct root_step {
  key32 root;
  key32 chain;
};
root_step root(const key32& rk, const key32& dh_out);

/// KDF_CK(ck): HMAC-SHA256 keyed with ck, over 0x01 for the message key and over
/// 0x02 for the next chain key.
struct chain_step {
  key32 chain;
  key32 message;
};
chain_step chain(const key32& ck);

/// The AEAD key and nonce of a message key: HKDF with salt = 32 zero bytes,
/// ikm = mk, info = message_info, 56 bytes out: key (32) then nonce (24). Each
/// message key encrypts one message, so a derived nonce is never reused.
struct aead_key {
  key32 key;
  secret<24> nonce;
};
aead_key message(const key32& mk);

} // namespace parley::e2e::kdf
