#include "tools/client/e2e/kdf.hpp"

#include <string>

namespace parley::e2e::kdf {

namespace {

const unsigned char* bytes(std::string_view x) noexcept {
  return reinterpret_cast<const unsigned char*>(x.data());
}

/// Wipes the HMAC state (it holds the key's pads) when it dies.
struct hmac_state {
  crypto_auth_hmacsha256_state state;

  explicit hmac_state(std::string_view key) {
    crypto_auth_hmacsha256_init(&state, bytes(key), key.size());
  }
  ~hmac_state() {
    sodium_memzero(&state, sizeof state);
  }
  void update(std::string_view data) {
    crypto_auth_hmacsha256_update(&state, bytes(data), data.size());
  }
  void update(const unsigned char* data, size_t size) {
    crypto_auth_hmacsha256_update(&state, data, size);
  }
  void final(unsigned char* out) {
    crypto_auth_hmacsha256_final(&state, out);
  }
};

const key32 zeros;  // HKDF's default salt: HashLen zero bytes

} // namespace

key32 hmac_sha256(std::string_view key, std::string_view data) {
  key32 out;
  hmac_state h(key);
  h.update(data);
  h.final(out.data());
  return out;
}

key32 hkdf_extract(std::string_view salt, std::string_view ikm) {
  return hmac_sha256(salt.empty() ? zeros.view() : salt, ikm);
}

bool hkdf_expand(const key32& prk, std::string_view info, unsigned char* out,
                 size_t size) {
  constexpr size_t hash_len = crypto_auth_hmacsha256_BYTES;
  if (size > 255 * hash_len)
    return false;
  // T(i) = HMAC(PRK, T(i-1) || info || i), T(0) empty; OKM = T(1) || T(2) ...
  key32 t;
  size_t t_size = 0;
  for (unsigned char i = 1; size > 0; ++i) {
    hmac_state h(prk.view());
    h.update(t.data(), t_size);
    h.update(info);
    h.update(&i, 1);
    h.final(t.data());
    t_size = hash_len;
    auto n = std::min(size, hash_len);
    std::copy(t.data(), t.data() + n, out);
    out += n;
    size -= n;
  }
  return true;
}

bool hkdf(std::string_view salt, std::string_view ikm, std::string_view info,
          unsigned char* out, size_t size) {
  return hkdf_expand(hkdf_extract(salt, ikm), info, out, size);
}

key32 x3dh(std::string_view km) {
  std::string ikm;
  ikm.reserve(32 + km.size());  // no reallocation leaves an unwiped copy behind
  ikm.assign(32, '\xFF');
  ikm += km;
  key32 sk;
  hkdf(zeros.view(), ikm, x3dh_info, sk.data(), sk.size());
  sodium_memzero(ikm.data(), ikm.size());
  return sk;
}

root_step root(const key32& rk, const key32& dh_out) {
  secret<64> okm;
  hkdf(rk.view(), dh_out.view(), root_info, okm.data(), okm.size());
  root_step step;
  std::copy(okm.data(), okm.data() + 32, step.root.data());
  std::copy(okm.data() + 32, okm.data() + 64, step.chain.data());
  return step;
}

chain_step chain(const key32& ck) {
  static constexpr char message_constant[] = {0x01};
  static constexpr char chain_constant[] = {0x02};
  chain_step step;
  step.message = hmac_sha256(ck.view(), {message_constant, 1});
  step.chain = hmac_sha256(ck.view(), {chain_constant, 1});
  return step;
}

aead_key message(const key32& mk) {
  secret<56> okm;
  hkdf(zeros.view(), mk.view(), message_info, okm.data(), okm.size());
  aead_key out;
  std::copy(okm.data(), okm.data() + 32, out.key.data());
  std::copy(okm.data() + 32, okm.data() + 56, out.nonce.data());
  return out;
}

} // namespace parley::e2e::kdf
