#include "tools/client/e2e/prekeys.hpp"

#include "schema/e2e.capnp.h"
#include "tools/client/e2e/big_endian.hpp"
#include "tools/client/e2e/capnp_io.hpp"

namespace parley::e2e {

namespace {

constexpr uint8_t record_version = 1;

constexpr std::string_view signed_prekey_context = "parley-e2e-v1 signed prekey";

void set_prekey(schema::PublicPrekey::Builder out, const public_prekey& x) {
  out.setId(x.id);
  out.setKey(as_data(view(x.key)));
}

std::optional<public_prekey> get_prekey(schema::PublicPrekey::Reader in) {
  auto key = to_public_key(parley::view(in.getKey()));
  if (!key)
    return std::nullopt;
  return public_prekey{in.getId(), *key};
}

std::optional<key32> get_secret(capnp::Data::Reader in) {
  return key32::from(parley::view(in));
}

} // namespace

signed_prekey signed_prekey::generate(const identity_key_pair& owner, uint32_t id,
                                      int64_t now_ms) {
  signed_prekey spk;
  spk.id = id;
  spk.pair = x25519_key_pair::generate();
  spk.signed_at = now_ms;
  spk.sig = owner.sign(signed_prekey_message(spk.public_part(), now_ms));
  return spk;
}

std::vector<one_time_prekey> one_time_prekey::generate(uint32_t first_id,
                                                        size_t count) {
  std::vector<one_time_prekey> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i)
    out.push_back({static_cast<uint32_t>(first_id + i), x25519_key_pair::generate()});
  return out;
}

std::string signed_prekey_message(const public_prekey& key, int64_t signed_at) {
  std::string out(signed_prekey_context);
  out += encode_x25519(key.key);
  detail::put_be32(out, key.id);
  detail::put_be64(out, static_cast<uint64_t>(signed_at));
  return out;
}

prekey_bundle make_bundle(const identity_key_pair& owner, const signed_prekey& spk,
                          const one_time_prekey* otk) {
  prekey_bundle b;
  b.identity_key = owner.ed25519_public();
  b.signed_key = spk.public_part();
  b.signed_at = spk.signed_at;
  b.sig = spk.sig;
  if (otk != nullptr)
    b.one_time_key = otk->public_part();
  return b;
}

bool verify(const prekey_bundle& bundle) {
  auto msg = signed_prekey_message(bundle.signed_key, bundle.signed_at);
  return crypto_sign_verify_detached(bundle.sig.data(),
                                     reinterpret_cast<const unsigned char*>(msg.data()),
                                     msg.size(), bundle.identity_key.data())
         == 0;
}

// -- bundle ----------------------------------------------------------------------

std::string encode(const prekey_bundle& x) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::PrekeyBundle>();
  root.setVersion(record_version);
  root.setIdentityKey(as_data(view(x.identity_key)));
  set_prekey(root.initSignedPrekey(), x.signed_key);
  root.setSignedAt(x.signed_at);
  root.setSignature(as_data(view(x.sig)));
  if (x.one_time_key)
    set_prekey(root.getOneTimePrekey().initPrekey(), *x.one_time_key);
  else
    root.getOneTimePrekey().setNone();
  return detail::to_bytes(message);
}

result<prekey_bundle> decode_bundle(std::string_view bytes) {
  return detail::read_record<schema::PrekeyBundle>(
    bytes, [](schema::PrekeyBundle::Reader r) -> result<prekey_bundle> {
      if (r.getVersion() != record_version)
        return error::unsupported_version;
      auto identity = to_public_key(parley::view(r.getIdentityKey()));
      auto sig = to_signature(parley::view(r.getSignature()));
      if (!identity || !sig || !r.hasSignedPrekey())
        return error::malformed;
      auto spk = get_prekey(r.getSignedPrekey());
      if (!spk)
        return error::malformed;
      prekey_bundle b;
      b.identity_key = *identity;
      b.signed_key = *spk;
      b.signed_at = r.getSignedAt();
      b.sig = *sig;
      auto otk = r.getOneTimePrekey();
      if (otk.isPrekey()) {
        auto key = get_prekey(otk.getPrekey());
        if (!key)
          return error::malformed;
        b.one_time_key = *key;
      }
      return b;
    });
}

// -- published records -----------------------------------------------------------

std::string encode_published(const signed_prekey& x) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::PublishedSignedPrekey>();
  root.setVersion(record_version);
  set_prekey(root.initPrekey(), x.public_part());
  root.setSignedAt(x.signed_at);
  root.setSignature(as_data(view(x.sig)));
  return detail::to_bytes(message);
}

result<published_signed_prekey> decode_published_signed_prekey(std::string_view bytes) {
  return detail::read_record<schema::PublishedSignedPrekey>(
    bytes,
    [](schema::PublishedSignedPrekey::Reader r) -> result<published_signed_prekey> {
      if (r.getVersion() != record_version)
        return error::unsupported_version;
      auto sig = to_signature(parley::view(r.getSignature()));
      if (!sig || !r.hasPrekey())
        return error::malformed;
      auto key = get_prekey(r.getPrekey());
      if (!key)
        return error::malformed;
      return published_signed_prekey{*key, r.getSignedAt(), *sig};
    });
}

std::string encode_published(const one_time_prekey& x) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<schema::PublishedOneTimePrekey>();
  root.setVersion(record_version);
  set_prekey(root.initPrekey(), x.public_part());
  return detail::to_bytes(message);
}

result<public_prekey> decode_published_one_time_prekey(std::string_view bytes) {
  return detail::read_record<schema::PublishedOneTimePrekey>(
    bytes, [](schema::PublishedOneTimePrekey::Reader r) -> result<public_prekey> {
      if (r.getVersion() != record_version)
        return error::unsupported_version;
      if (!r.hasPrekey())
        return error::malformed;
      auto key = get_prekey(r.getPrekey());
      if (!key)
        return error::malformed;
      return *key;
    });
}

result<prekey_bundle> bundle_from_directory(std::string_view identity_key,
                                            std::string_view signed_prekey,
                                            std::string_view one_time_prekey) {
  auto identity = to_public_key(identity_key);
  if (!identity)
    return error::malformed;
  auto spk = decode_published_signed_prekey(signed_prekey);
  if (!spk)
    return spk.failure();
  prekey_bundle b;
  b.identity_key = *identity;
  b.signed_key = spk->key;
  b.signed_at = spk->signed_at;
  b.sig = spk->sig;
  if (!one_time_prekey.empty()) {
    auto otk = decode_published_one_time_prekey(one_time_prekey);
    if (!otk)
      return otk.failure();
    b.one_time_key = *otk;
  }
  return b;
}

// -- device-local prekey secrets -------------------------------------------------

std::string encode(const signed_prekey& x) {
  detail::wiped_builder message(64);
  auto root = message.get().initRoot<schema::SignedPrekeySecret>();
  root.setVersion(record_version);
  root.setId(x.id);
  root.setSecretKey(as_data(x.pair.priv.view()));
  root.setSignature(as_data(view(x.sig)));
  root.setSignedAt(x.signed_at);
  return message.bytes();
}

result<signed_prekey> decode_signed_prekey(std::string_view bytes) {
  return detail::read_record<schema::SignedPrekeySecret>(
    bytes, [](schema::SignedPrekeySecret::Reader r) -> result<signed_prekey> {
      if (r.getVersion() != record_version)
        return error::unsupported_version;
      auto priv = get_secret(r.getSecretKey());
      auto sig = to_signature(parley::view(r.getSignature()));
      if (!priv || !sig)
        return error::malformed;
      signed_prekey x;
      x.id = r.getId();
      x.pair = x25519_key_pair::from_secret(*priv);
      x.signed_at = r.getSignedAt();
      x.sig = *sig;
      return x;
    });
}

std::string encode(const one_time_prekey& x) {
  detail::wiped_builder message(32);
  auto root = message.get().initRoot<schema::OneTimePrekeySecret>();
  root.setVersion(record_version);
  root.setId(x.id);
  root.setSecretKey(as_data(x.pair.priv.view()));
  return message.bytes();
}

result<one_time_prekey> decode_one_time_prekey(std::string_view bytes) {
  return detail::read_record<schema::OneTimePrekeySecret>(
    bytes, [](schema::OneTimePrekeySecret::Reader r) -> result<one_time_prekey> {
      if (r.getVersion() != record_version)
        return error::unsupported_version;
      auto priv = get_secret(r.getSecretKey());
      if (!priv)
        return error::malformed;
      return one_time_prekey{r.getId(), x25519_key_pair::from_secret(*priv)};
    });
}

} // namespace parley::e2e
