// X3DH: both sides agree with and without a one-time prekey, a bundle whose
// signature does not verify is refused, prekey records round-trip, and a first
// message made by an independent implementation (known_answers.py) decrypts.
#include "tools/client/e2e/session.hpp"
#include "tools/client/e2e/x3dh.hpp"
#include "tools/client/keystore.hpp"
#include "tools/client/message_id.hpp"

#include <catch2/catch.hpp>

using namespace parley;
using namespace parley::e2e;

namespace {

std::string unhex(std::string_view hex) {
  auto bytes = from_hex(hex);
  REQUIRE(bytes);
  return *bytes;
}

public_key key_of(std::string_view hex) {
  auto k = to_public_key(unhex(hex));
  REQUIRE(k);
  return *k;
}

std::string range_bytes(int first, int last) {
  std::string out;
  for (int i = first; i <= last; ++i)
    out += static_cast<char>(i);
  return out;
}

/// The identity whose Ed25519 seed is `seed`.
identity_key_pair identity_from_seed(const std::string& seed) {
  unsigned char pk[crypto_sign_PUBLICKEYBYTES];
  std::string sk(crypto_sign_SECRETKEYBYTES, '\0');
  crypto_sign_seed_keypair(pk, reinterpret_cast<unsigned char*>(sk.data()),
                           reinterpret_cast<const unsigned char*>(seed.data()));
  auto id = identity_key_pair::from_ed25519(sk);
  REQUIRE(id);
  return *id;
}

struct responder {
  identity_key_pair id = identity_key_pair::generate();
  signed_prekey spk = signed_prekey::generate(id, 1, 1700000000000);
  std::vector<one_time_prekey> otks = one_time_prekey::generate(100, 3);
};

} // namespace

TEST_CASE("e2e identity - the keystore's Ed25519 key is used as is, garbage is refused") {
  auto stored = identity::generate();
  auto id = identity_key_pair::from_ed25519(stored.secret_key());
  REQUIRE(id);
  CHECK(view(id->ed25519_public()) == stored.public_key());
  auto converted = ed25519_to_x25519(id->ed25519_public());
  REQUIRE(converted);
  CHECK(*converted == id->x25519_public());
  // The X25519 halves really are a pair.
  CHECK(x25519_key_pair::from_secret(id->x25519_secret()).pub == id->x25519_public());

  CHECK(identity_key_pair::from_ed25519("short").failure() == error::bad_key);
  auto mismatched = stored.secret_key();
  mismatched[40] ^= 1;  // public half no longer matches the seed
  CHECK(identity_key_pair::from_ed25519(mismatched).failure() == error::bad_key);
}

TEST_CASE("e2e x3dh - both sides derive the same SK and AD with a one-time prekey") {
  auto alice = identity_key_pair::generate();
  responder bob;
  auto bundle = make_bundle(bob.id, bob.spk, &bob.otks[1]);
  auto started = x3dh_initiate(alice, bundle);
  REQUIRE(started);
  CHECK(started->header.identity_key == alice.ed25519_public());
  CHECK(started->header.signed_prekey_id == 1);
  CHECK(started->header.one_time_prekey_id == std::optional<uint32_t>(101));
  CHECK(started->remote_ratchet_key == bob.spk.pair.pub);

  auto answered = x3dh_respond(bob.id, bob.spk, &bob.otks[1], started->header);
  REQUIRE(answered);
  CHECK(answered->shared == started->secret.shared);
  CHECK(answered->ad == started->secret.ad);
  CHECK(answered->ad
        == encode_ed25519(alice.ed25519_public()) + encode_ed25519(bob.id.ed25519_public()));
  CHECK(answered->ad.size() == 66);

  // Another one-time prekey, or none, yields another secret.
  auto header = started->header;
  header.one_time_prekey_id = 102;
  auto other = x3dh_respond(bob.id, bob.spk, &bob.otks[2], header);
  REQUIRE(other);
  CHECK(other->shared != started->secret.shared);

  // Prekeys other than those the header names are refused.
  CHECK(x3dh_respond(bob.id, bob.spk, &bob.otks[0], started->header).failure()
        == error::wrong_prekey);
  CHECK(x3dh_respond(bob.id, bob.spk, nullptr, started->header).failure()
        == error::wrong_prekey);
  auto old_spk = signed_prekey::generate(bob.id, 0, 1600000000000);
  CHECK(x3dh_respond(bob.id, old_spk, &bob.otks[1], started->header).failure()
        == error::wrong_prekey);
}

TEST_CASE("e2e x3dh - both sides derive the same SK without a one-time prekey") {
  auto alice = identity_key_pair::generate();
  responder bob;
  auto started = x3dh_initiate(alice, make_bundle(bob.id, bob.spk));
  REQUIRE(started);
  CHECK_FALSE(started->header.one_time_prekey_id);
  auto answered = x3dh_respond(bob.id, bob.spk, nullptr, started->header);
  REQUIRE(answered);
  CHECK(answered->shared == started->secret.shared);
  CHECK(answered->ad == started->secret.ad);
  // A second run uses a fresh ephemeral key, hence a fresh secret.
  auto again = x3dh_initiate(alice, make_bundle(bob.id, bob.spk));
  REQUIRE(again);
  CHECK(again->header.base_key != started->header.base_key);
  CHECK(again->secret.shared != started->secret.shared);
  // Someone else's identity cannot stand in for Bob's.
  auto mallory = identity_key_pair::generate();
  auto wrong = x3dh_respond(mallory, bob.spk, nullptr, started->header);
  REQUIRE(wrong);
  CHECK(wrong->shared != started->secret.shared);
}

TEST_CASE("e2e x3dh - a bundle whose signature does not verify is refused") {
  auto alice = identity_key_pair::generate();
  responder bob;
  auto good = make_bundle(bob.id, bob.spk, &bob.otks[0]);
  REQUIRE(verify(good));
  REQUIRE(x3dh_initiate(alice, good));

  auto refused = [&](const prekey_bundle& b) {
    CHECK_FALSE(verify(b));
    auto r = x3dh_initiate(alice, b);
    REQUIRE_FALSE(r);
    CHECK(r.failure() == error::bad_signature);
  };
  SECTION("a flipped signature bit") {
    auto b = good;
    b.sig[10] ^= 0x04;
    refused(b);
  }
  SECTION("a signed prekey swapped for the server's own") {
    auto b = good;
    b.signed_key.key = x25519_key_pair::generate().pub;
    refused(b);
  }
  SECTION("a changed signed prekey id") {
    auto b = good;
    b.signed_key.id += 1;
    refused(b);
  }
  SECTION("a signed prekey made to look newer") {
    auto b = good;
    b.signed_at += 86400000;
    refused(b);
  }
  SECTION("another identity key with Bob's signed prekey") {
    auto b = good;
    b.identity_key = identity_key_pair::generate().ed25519_public();
    refused(b);
  }
  SECTION("a signed prekey signed by someone else") {
    auto mallory = identity_key_pair::generate();
    auto b = good;
    b.sig = signed_prekey::generate(mallory, b.signed_key.id, b.signed_at).sig;
    refused(b);
  }
}

TEST_CASE("e2e x3dh - low-order keys are refused, not turned into a known secret") {
  auto alice = identity_key_pair::generate();
  responder bob;
  // Signed by Bob, so the signature verifies: the refusal must come from the DH.
  public_key zero{};
  auto b = make_bundle(bob.id, bob.spk);
  b.signed_key.key = zero;
  b.sig = bob.id.sign(signed_prekey_message(b.signed_key, b.signed_at));
  CHECK(x3dh_initiate(alice, b).failure() == error::bad_key);

  auto started = x3dh_initiate(alice, make_bundle(bob.id, bob.spk));
  REQUIRE(started);
  auto header = started->header;
  header.base_key = zero;
  CHECK(x3dh_respond(bob.id, bob.spk, nullptr, header).failure() == error::bad_key);
}

TEST_CASE("e2e prekeys - bundle and prekey secrets round-trip - garbage is refused") {
  responder bob;
  for (const one_time_prekey* otk : {static_cast<const one_time_prekey*>(nullptr),
                                     static_cast<const one_time_prekey*>(&bob.otks[2])}) {
    auto bundle = make_bundle(bob.id, bob.spk, otk);
    auto back = decode_bundle(encode(bundle));
    REQUIRE(back);
    CHECK(back->identity_key == bob.id.ed25519_public());
    CHECK(back->signed_key.id == bob.spk.id);
    CHECK(back->signed_key.key == bob.spk.pair.pub);
    CHECK(back->signed_at == bob.spk.signed_at);
    CHECK(back->sig == bob.spk.sig);
    CHECK(back->one_time_key.has_value() == (otk != nullptr));
    if (otk != nullptr) {
      CHECK(back->one_time_key->id == 102);
      CHECK(back->one_time_key->key == otk->pair.pub);
    }
    CHECK(verify(*back));
  }

  auto spk = decode_signed_prekey(encode(bob.spk));
  REQUIRE(spk);
  CHECK(spk->id == bob.spk.id);
  CHECK(spk->pair.priv == bob.spk.pair.priv);
  CHECK(spk->pair.pub == bob.spk.pair.pub);
  CHECK(spk->sig == bob.spk.sig);
  CHECK(spk->signed_at == bob.spk.signed_at);
  auto otk = decode_one_time_prekey(encode(bob.otks[0]));
  REQUIRE(otk);
  CHECK(otk->id == 100);
  CHECK(otk->pair.priv == bob.otks[0].pair.priv);
  CHECK(otk->pair.pub == bob.otks[0].pair.pub);

  CHECK(decode_bundle("").failure() == error::malformed);
  CHECK(decode_bundle(std::string(24, '\xff')).failure() == error::malformed);
  // Cap'n Proto is not self-describing, but a record of another type still
  // fails the size checks here: its pointer fields are not where a bundle's are.
  CHECK(decode_bundle(encode(bob.otks[0])).failure() == error::malformed);
  CHECK(decode_signed_prekey("garbage!").failure() == error::malformed);
  CHECK(decode_one_time_prekey(std::string(16, '\0')).failure() == error::malformed);
}

TEST_CASE("e2e known answer - X3DH and the first message match an independent implementation") {
  // Values from tools/client/e2e/known_answers.py (fixed private keys).
  auto bob = identity_from_seed(range_bytes(33, 64));
  CHECK(to_hex(view(bob.ed25519_public()))
        == "e7f162a10bec559afea195e4dce84b69568d5d2cb0963eb446c0685e2b17f2f0");
  signed_prekey spk;
  spk.id = 7;
  spk.pair = x25519_key_pair::from_secret(*key32::from(range_bytes(65, 96)));
  spk.signed_at = 1700000000000;
  CHECK(to_hex(view(spk.pair.pub))
        == "64b101b1d0be5a8704bd078f9895001fc03e8e9f9522f188dd128d9846d48466");
  // Ed25519 signatures are deterministic: this pins what is signed.
  spk.sig = bob.sign(signed_prekey_message(spk.public_part(), spk.signed_at));
  CHECK(to_hex(view(spk.sig))
        == "ec493ce7c382db159b73e40bcb15385985cfbdec5cca8288745587fa39cb7741"
           "025444819754b5e9a0d0ba6c3cb89594f53e33592a43e70caa4914745390e205");
  one_time_prekey otk{42, x25519_key_pair::from_secret(*key32::from(range_bytes(97, 128)))};

  x3dh_header header;
  header.identity_key =
    key_of("79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664");
  header.base_key = key_of("883186b800b41d5cf0429695da9b3cc4f328ebcd184a6e482fa578c103f06c77");
  header.signed_prekey_id = 7;
  header.one_time_prekey_id = 42;
  auto with_otk = x3dh_respond(bob, spk, &otk, header);
  REQUIRE(with_otk);
  CHECK(to_hex(with_otk->shared.view())
        == "cd8351953bbe302497c6cd067e10fd42539e3789313bbda4bfffb82286e32978");
  auto plain_header = header;
  plain_header.one_time_prekey_id.reset();
  auto without = x3dh_respond(bob, spk, nullptr, plain_header);
  REQUIRE(without);
  CHECK(to_hex(without->shared.view())
        == "934322be40de8eb1f3975e646ebd43c9015c203f58222614b16adbcbb11db03c");

  prekey_message msg;
  msg.x3dh = header;
  msg.message.header.dh =
    key_of("ad438bfae31f6c093d61d4339255ea798092c9fadd07b97827f4b0ae9dee7c1c");
  msg.message.ciphertext = unhex("7dc64b2cdc6897bbe37710e4f5d326323361ed9da74523720d");
  auto accepted = session::accept(bob, spk, &otk, msg);
  REQUIRE(accepted);
  CHECK(accepted->plaintext == "hello bob");
  CHECK(accepted->used_one_time_prekey == std::optional<uint32_t>(42));
  CHECK(accepted->opened.remote_identity() == header.identity_key);

  // One bit anywhere in what is authenticated and it is refused.
  auto tampered = msg;
  tampered.message.header.n = 1;
  CHECK(session::accept(bob, spk, &otk, tampered).failure() == error::decrypt_failed);
  tampered = msg;
  tampered.message.ciphertext[3] ^= 0x20;
  CHECK(session::accept(bob, spk, &otk, tampered).failure() == error::decrypt_failed);
  tampered = msg;
  tampered.x3dh.identity_key = identity_key_pair::generate().ed25519_public();
  CHECK(session::accept(bob, spk, &otk, tampered).failure() == error::decrypt_failed);
}

TEST_CASE("e2e prekeys - a bundle assembled from the key directory's records") {
  auto alice = identity_key_pair::generate();
  responder bob;
  // What Bob publishes (PublishKeys), and what the directory hands Alice back
  // (Bundle): his registered identity key and the records unchanged.
  auto spk_record = encode_published(bob.spk);
  auto otk_record = encode_published(bob.otks[1]);
  auto identity = std::string(view(bob.id.ed25519_public()));

  auto published = decode_published_signed_prekey(spk_record);
  REQUIRE(published);
  CHECK(published->key.id == bob.spk.id);
  CHECK(published->key.key == bob.spk.pair.pub);
  CHECK(published->signed_at == bob.spk.signed_at);
  CHECK(published->sig == bob.spk.sig);
  auto otk = decode_published_one_time_prekey(otk_record);
  REQUIRE(otk);
  CHECK(otk->id == 101);
  CHECK(otk->key == bob.otks[1].pair.pub);
  // Neither record holds a private key.
  CHECK(spk_record.find(bob.spk.pair.priv.view()) == std::string::npos);
  CHECK(otk_record.find(bob.otks[1].pair.priv.view()) == std::string::npos);

  for (bool with_otk : {true, false}) {
    auto bundle = bundle_from_directory(identity, spk_record, with_otk ? otk_record : "");
    REQUIRE(bundle);
    CHECK(verify(*bundle));
    CHECK(bundle->one_time_key.has_value() == with_otk);
    auto started = session::initiate(alice, *bundle);
    REQUIRE(started);
    auto first = decode_envelope(*started->encrypt("via the directory"));
    REQUIRE(first);
    auto accepted = session::accept(bob.id, bob.spk, with_otk ? &bob.otks[1] : nullptr,
                                    *first->prekey());
    REQUIRE(accepted);
    CHECK(accepted->plaintext == "via the directory");
  }

  // A directory that swaps the identity key is caught by the signature.
  auto swapped = bundle_from_directory(
    std::string(view(identity_key_pair::generate().ed25519_public())), spk_record, "");
  REQUIRE(swapped);
  CHECK(session::initiate(alice, *swapped).failure() == error::bad_signature);

  CHECK(bundle_from_directory("short", spk_record, "").failure() == error::malformed);
  CHECK(bundle_from_directory(identity, "", "").failure() == error::malformed);
  CHECK(bundle_from_directory(identity, spk_record, "garbage!").failure()
        == error::malformed);
  CHECK(decode_published_one_time_prekey(std::string(16, '\x7f')).failure()
        == error::malformed);
}
