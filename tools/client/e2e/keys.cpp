#include "tools/client/e2e/keys.hpp"

namespace parley::e2e {

std::string_view to_string(error x) noexcept {
  switch (x) {
    case error::malformed:
      return "malformed";
    case error::unsupported_version:
      return "unsupported_version";
    case error::bad_key:
      return "bad_key";
    case error::bad_signature:
      return "bad_signature";
    case error::wrong_prekey:
      return "wrong_prekey";
    case error::not_this_session:
      return "not_this_session";
    case error::too_far_ahead:
      return "too_far_ahead";
    case error::decrypt_failed:
      return "decrypt_failed";
    case error::exhausted:
      return "exhausted";
    case error::cannot_send:
      return "cannot_send";
  }
  return "unknown";
}

std::optional<public_key> to_public_key(std::string_view bytes) {
  if (bytes.size() != public_key{}.size())
    return std::nullopt;
  public_key x;
  std::copy(bytes.begin(), bytes.end(), x.begin());
  return x;
}

std::optional<signature> to_signature(std::string_view bytes) {
  if (bytes.size() != signature{}.size())
    return std::nullopt;
  signature x;
  std::copy(bytes.begin(), bytes.end(), x.begin());
  return x;
}

namespace {

// Key type bytes of Encode(PK). 0x05 is Signal's for Curve25519 keys; Ed25519
// identity keys get their own so that the two forms can never be confused.
constexpr char x25519_type = 0x05;
constexpr char ed25519_type = static_cast<char>(0xED);

} // namespace

std::string encode_x25519(const public_key& key) {
  std::string out(1, x25519_type);
  out += view(key);
  return out;
}

std::string encode_ed25519(const public_key& key) {
  std::string out(1, ed25519_type);
  out += view(key);
  return out;
}

result<key32> x25519(const key32& mine, const public_key& theirs) {
  key32 shared;
  // libsodium refuses (-1) when the output is all zeros: a low-order point.
  if (crypto_scalarmult(shared.data(), mine.data(), theirs.data()) != 0)
    return error::bad_key;
  return shared;
}

result<public_key> ed25519_to_x25519(const public_key& ed25519) {
  public_key out;
  if (crypto_sign_ed25519_pk_to_curve25519(out.data(), ed25519.data()) != 0)
    return error::bad_key;
  return out;
}

x25519_key_pair x25519_key_pair::generate() {
  key32 priv;
  randombytes_buf(priv.data(), priv.size());
  return from_secret(priv);
}

x25519_key_pair x25519_key_pair::from_secret(const key32& priv) {
  x25519_key_pair pair;
  pair.priv = priv;
  crypto_scalarmult_base(pair.pub.data(), pair.priv.data());
  return pair;
}

result<identity_key_pair> identity_key_pair::from_ed25519(std::string_view secret_key) {
  auto ed = secret<crypto_sign_SECRETKEYBYTES>::from(secret_key);
  if (!ed)
    return error::bad_key;
  identity_key_pair id;
  id.ed_secret_ = *ed;
  // libsodium's secret key is seed || public key; check that the two agree.
  std::copy(secret_key.begin() + crypto_sign_SEEDBYTES, secret_key.end(),
            id.ed_public_.begin());
  public_key seed_pk;
  secret<crypto_sign_SECRETKEYBYTES> seed_sk;
  crypto_sign_seed_keypair(seed_pk.data(), seed_sk.data(), id.ed_secret_.data());
  if (seed_pk != id.ed_public_)
    return error::bad_key;
  // The X25519 public key is the one a peer derives from our Ed25519 key.
  auto x_public = ed25519_to_x25519(id.ed_public_);
  if (!x_public
      || crypto_sign_ed25519_sk_to_curve25519(id.x_secret_.data(), id.ed_secret_.data())
           != 0)
    return error::bad_key;
  id.x_public_ = *x_public;
  return id;
}

identity_key_pair identity_key_pair::generate() {
  secret<crypto_sign_SECRETKEYBYTES> sk;
  public_key pk;
  crypto_sign_keypair(pk.data(), sk.data());
  return *from_ed25519(sk.view());
}

signature identity_key_pair::sign(std::string_view message) const {
  signature sig;
  crypto_sign_detached(sig.data(), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), ed_secret_.data());
  return sig;
}

} // namespace parley::e2e
