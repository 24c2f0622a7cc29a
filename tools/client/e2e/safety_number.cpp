#include "tools/client/e2e/safety_number.hpp"

#include <array>
#include <cstdint>
#include <cstdio>

namespace parley::e2e {

std::string safety_number_half(const public_key& identity_key, std::string_view user) {
  auto key = encode_ed25519(identity_key);
  std::array<unsigned char, crypto_hash_sha512_BYTES> h;
  crypto_hash_sha512_state state;
  static constexpr unsigned char version[] = {0x00, 0x00};
  crypto_hash_sha512_init(&state);
  crypto_hash_sha512_update(&state, version, sizeof version);
  crypto_hash_sha512_update(&state, reinterpret_cast<const unsigned char*>(key.data()),
                            key.size());
  crypto_hash_sha512_update(&state, reinterpret_cast<const unsigned char*>(user.data()),
                            user.size());
  crypto_hash_sha512_final(&state, h.data());
  for (int i = 0; i < safety_number_iterations; ++i) {
    crypto_hash_sha512_init(&state);
    crypto_hash_sha512_update(&state, h.data(), h.size());
    crypto_hash_sha512_update(&state, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
    crypto_hash_sha512_final(&state, h.data());
  }
  std::string digits;
  for (size_t chunk = 0; chunk < 30; chunk += 5) {
    uint64_t x = 0;
    for (size_t i = 0; i < 5; ++i)
      x = x << 8 | h[chunk + i];
    char buf[8];
    std::snprintf(buf, sizeof buf, "%05u", static_cast<unsigned>(x % 100000));
    digits += buf;
  }
  return digits;
}

std::string safety_number(const public_key& local_identity, std::string_view local_user,
                          const public_key& remote_identity,
                          std::string_view remote_user) {
  auto local = safety_number_half(local_identity, local_user);
  auto remote = safety_number_half(remote_identity, remote_user);
  return local < remote ? local + remote : remote + local;
}

std::string format_safety_number(std::string_view digits) {
  std::string out;
  for (size_t i = 0; i < digits.size(); i += 5) {
    if (i > 0)
      out += ' ';
    out += digits.substr(i, 5);
  }
  return out;
}

} // namespace parley::e2e
