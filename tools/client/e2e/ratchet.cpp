#include "tools/client/e2e/ratchet.hpp"

#include "tools/client/e2e/big_endian.hpp"
#include "tools/client/e2e/kdf.hpp"

#include <algorithm>
#include <limits>

namespace parley::e2e {

namespace {

constexpr char header_layout_version = 0x01;

constexpr size_t tag_bytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;

const unsigned char* bytes(std::string_view x) noexcept {
  return reinterpret_cast<const unsigned char*>(x.data());
}

/// ENCRYPT(mk, plaintext, associated_data).
std::string seal(const key32& mk, std::string_view plaintext, std::string_view aad) {
  auto k = kdf::message(mk);
  std::string out(plaintext.size() + tag_bytes, '\0');
  unsigned long long size = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
    reinterpret_cast<unsigned char*>(out.data()), &size, bytes(plaintext),
    plaintext.size(), bytes(aad), aad.size(), nullptr, k.nonce.data(), k.key.data());
  out.resize(size);
  return out;
}

/// DECRYPT(mk, ciphertext, associated_data).
result<std::string> open(const key32& mk, const ratchet_message& msg,
                         std::string_view ad) {
  auto& c = msg.ciphertext;
  if (c.size() < tag_bytes)
    return error::decrypt_failed;
  auto k = kdf::message(mk);
  auto aad = authenticated_data(ad, msg.header);
  std::string out(c.size() - tag_bytes, '\0');
  unsigned long long size = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
        reinterpret_cast<unsigned char*>(out.data()), &size, nullptr, bytes(c),
        c.size(), bytes(aad), aad.size(), k.nonce.data(), k.key.data())
      != 0)
    return error::decrypt_failed;
  out.resize(size);
  return out;
}

/// TrySkippedMessageKeys: nothing when (dh, n) has no stored key.
std::optional<result<std::string>> try_skipped(ratchet_state& state,
                                               const ratchet_message& msg,
                                               std::string_view ad) {
  auto& h = msg.header;
  auto i = std::find_if(state.skipped.begin(), state.skipped.end(),
                        [&](const skipped_key& x) { return x.n == h.n && x.dh == h.dh; });
  if (i == state.skipped.end())
    return std::nullopt;
  key32 mk = i->key;
  state.skipped.erase(i);
  return open(mk, msg, ad);
}

/// SkipMessageKeys, then dropping the oldest keys beyond max_skipped_keys.
result<ok> skip(ratchet_state& state, uint32_t until) {
  if (uint64_t{state.nr} + max_skip < until)
    return error::too_far_ahead;
  if (state.receiving) {
    while (state.nr < until) {
      auto step = kdf::chain(*state.receiving);
      state.receiving = step.chain;
      state.skipped.push_back({*state.remote, state.nr, step.message});
      ++state.nr;
    }
    if (state.skipped.size() > max_skipped_keys) {
      auto excess = static_cast<std::ptrdiff_t>(state.skipped.size() - max_skipped_keys);
      state.skipped.erase(state.skipped.begin(), state.skipped.begin() + excess);
    }
  }
  return ok{};
}

/// DHRatchet.
result<ok> dh_ratchet(ratchet_state& state, const ratchet_header& h) {
  state.pn = state.ns;
  state.ns = 0;
  state.nr = 0;
  state.remote = h.dh;
  auto dh = x25519(state.self.priv, h.dh);
  if (!dh)
    return dh.failure();
  auto step = kdf::root(state.root, *dh);
  state.root = step.root;
  state.receiving = step.chain;
  state.self = x25519_key_pair::generate();
  dh = x25519(state.self.priv, h.dh);
  if (!dh)
    return dh.failure();
  step = kdf::root(state.root, *dh);
  state.root = step.root;
  state.sending = step.chain;
  return ok{};
}

/// RatchetDecrypt proper; leaves `state` in any shape when it fails.
result<std::string> decrypt_in_place(ratchet_state& state, const ratchet_message& msg,
                                     std::string_view ad) {
  if (auto plaintext = try_skipped(state, msg, ad))
    return std::move(*plaintext);
  auto& h = msg.header;
  if (!state.remote || *state.remote != h.dh) {
    if (auto r = skip(state, h.pn); !r)
      return r.failure();
    if (auto r = dh_ratchet(state, h); !r)
      return r.failure();
  }
  if (auto r = skip(state, h.n); !r)
    return r.failure();
  // An initiator has no receiving chain until Bob's first reply, whose ratchet
  // key differs from his signed prekey; a header naming that prekey is forged.
  if (!state.receiving)
    return error::decrypt_failed;
  if (state.nr == std::numeric_limits<uint32_t>::max())
    return error::exhausted;
  auto step = kdf::chain(*state.receiving);
  state.receiving = step.chain;
  ++state.nr;
  return open(step.message, msg, ad);
}

} // namespace

std::string authenticated_data(std::string_view ad, const ratchet_header& header) {
  std::string out(ad);
  out += header_layout_version;
  out += encode_x25519(header.dh);
  detail::put_be32(out, header.pn);
  detail::put_be32(out, header.n);
  return out;
}

result<ratchet_state> ratchet_init_initiator(const key32& sk,
                                             const public_key& remote_ratchet_key) {
  ratchet_state state;
  state.self = x25519_key_pair::generate();
  state.remote = remote_ratchet_key;
  auto dh = x25519(state.self.priv, remote_ratchet_key);
  if (!dh)
    return dh.failure();
  auto step = kdf::root(sk, *dh);
  state.root = step.root;
  state.sending = step.chain;
  return state;
}

ratchet_state ratchet_init_responder(const key32& sk, const x25519_key_pair& own) {
  ratchet_state state;
  state.self = own;
  state.root = sk;
  return state;
}

result<ratchet_message> ratchet_encrypt(ratchet_state& state,
                                        std::string_view plaintext,
                                        std::string_view ad) {
  if (!state.sending)
    return error::cannot_send;
  if (state.ns == std::numeric_limits<uint32_t>::max())
    return error::exhausted;
  auto step = kdf::chain(*state.sending);
  state.sending = step.chain;
  ratchet_message msg;
  msg.header = {state.self.pub, state.pn, state.ns};
  ++state.ns;
  msg.ciphertext = seal(step.message, plaintext, authenticated_data(ad, msg.header));
  return msg;
}

result<std::string> ratchet_decrypt(ratchet_state& state, const ratchet_message& msg,
                                    std::string_view ad) {
  auto next = state;
  auto plaintext = decrypt_in_place(next, msg, ad);
  if (plaintext)
    state = std::move(next);
  return plaintext;
}

} // namespace parley::e2e
