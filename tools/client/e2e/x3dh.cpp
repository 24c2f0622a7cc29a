#include "tools/client/e2e/x3dh.hpp"

#include "tools/client/e2e/kdf.hpp"

namespace parley::e2e {

namespace {

/// DH1 || DH2 || DH3 [|| DH4], wiped when it dies.
class key_material {
public:
  key_material() {
    bytes_.reserve(4 * 32);  // no reallocation leaves an unwiped copy behind
  }
  ~key_material() {
    sodium_memzero(bytes_.data(), bytes_.size());
  }
  void add(const key32& dh) {
    bytes_ += dh.view();
  }
  std::string_view view() const {
    return bytes_;
  }

private:
  std::string bytes_;
};

} // namespace

std::string x3dh_ad(const public_key& initiator, const public_key& responder) {
  return encode_ed25519(initiator) + encode_ed25519(responder);
}

result<x3dh_initiated> x3dh_initiate(const identity_key_pair& self,
                                     const prekey_bundle& bundle) {
  if (!verify(bundle))
    return error::bad_signature;
  auto remote_identity = ed25519_to_x25519(bundle.identity_key);
  if (!remote_identity)
    return error::bad_key;
  auto ephemeral = x25519_key_pair::generate();
  auto dh1 = x25519(self.x25519_secret(), bundle.signed_key.key);
  auto dh2 = x25519(ephemeral.priv, *remote_identity);
  auto dh3 = x25519(ephemeral.priv, bundle.signed_key.key);
  if (!dh1 || !dh2 || !dh3)
    return error::bad_key;
  key_material km;
  km.add(*dh1);
  km.add(*dh2);
  km.add(*dh3);
  x3dh_initiated out;
  if (bundle.one_time_key) {
    auto dh4 = x25519(ephemeral.priv, bundle.one_time_key->key);
    if (!dh4)
      return error::bad_key;
    km.add(*dh4);
    out.header.one_time_prekey_id = bundle.one_time_key->id;
  }
  out.secret.shared = kdf::x3dh(km.view());
  out.secret.ad = x3dh_ad(self.ed25519_public(), bundle.identity_key);
  out.header.identity_key = self.ed25519_public();
  out.header.base_key = ephemeral.pub;
  out.header.signed_prekey_id = bundle.signed_key.id;
  out.remote_ratchet_key = bundle.signed_key.key;
  return out;
}

result<x3dh_secret> x3dh_respond(const identity_key_pair& self,
                                 const signed_prekey& spk,
                                 const one_time_prekey* otk,
                                 const x3dh_header& header) {
  if (header.signed_prekey_id != spk.id
      || header.one_time_prekey_id.has_value() != (otk != nullptr)
      || (otk != nullptr && *header.one_time_prekey_id != otk->id))
    return error::wrong_prekey;
  auto remote_identity = ed25519_to_x25519(header.identity_key);
  if (!remote_identity)
    return error::bad_key;
  auto dh1 = x25519(spk.pair.priv, *remote_identity);
  auto dh2 = x25519(self.x25519_secret(), header.base_key);
  auto dh3 = x25519(spk.pair.priv, header.base_key);
  if (!dh1 || !dh2 || !dh3)
    return error::bad_key;
  key_material km;
  km.add(*dh1);
  km.add(*dh2);
  km.add(*dh3);
  if (otk != nullptr) {
    auto dh4 = x25519(otk->pair.priv, header.base_key);
    if (!dh4)
      return error::bad_key;
    km.add(*dh4);
  }
  x3dh_secret out;
  out.shared = kdf::x3dh(km.view());
  out.ad = x3dh_ad(header.identity_key, self.ed25519_public());
  return out;
}

} // namespace parley::e2e
