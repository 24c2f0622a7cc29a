// Sender keys for groups: a member's chain and signing key, decrypted by every
// other member who was handed it; messages out of order, replays, tampering,
// forgeries by members who hold the chain, late joiners, rotation (a member
// who had the old key cannot read the new), the skip limit, persistence, and
// the tagged pairwise plaintexts that carry the keys.
#include "schema/bytes.hpp"
#include "schema/e2e.capnp.h"
#include "tools/client/e2e/content.hpp"
#include "tools/client/e2e/sender_key.hpp"

#include <catch2/catch.hpp>

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cstring>
#include <string>
#include <vector>

using namespace parley;
using namespace parley::e2e;

namespace {

const std::string group_id(16, '\x42');

/// Another member's copy of `key`, as handed over.
sender_key received_copy(const sender_key& key) {
  return sender_key::from_distribution(key.distribution(), key.sender());
}

std::string send(sender_key& key, std::string_view text) {
  auto bytes = key.encrypt(text);
  REQUIRE(bytes);
  return *bytes;
}

result<std::string> receive(sender_key& key, const std::string& bytes) {
  auto msg = decode_sender_key_message(bytes);
  if (!msg)
    return msg.failure();
  return key.decrypt(*msg);
}

void receives(sender_key& key, const std::string& bytes, std::string_view expected) {
  auto plain = receive(key, bytes);
  INFO("error: " << (plain ? "" : to_string(plain.failure())));
  REQUIRE(plain);
  CHECK(*plain == expected);
}

/// An own key with the chain, id and iteration of `copy` (another member's key
/// as handed out) and a signing key of its own: what a member could make.
sender_key forge_from(const sender_key& copy) {
  auto own = encode(sender_key::generate(group_id, copy.sender()));
  std::vector<capnp::word> words(own.size() / sizeof(capnp::word));
  std::memcpy(words.data(), own.data(), own.size());
  capnp::FlatArrayMessageReader reader(kj::arrayPtr(words.data(), words.size()));
  capnp::MallocMessageBuilder message;
  message.setRoot(reader.getRoot<schema::SenderKeyState>());
  auto root = message.getRoot<schema::SenderKeyState>();
  auto d = copy.distribution();
  root.setKeyId(d.key_id);
  root.setIteration(d.iteration);
  root.setChainKey(as_data(d.chain.view()));
  auto words_out = capnp::messageToFlatArray(message);
  auto bytes = words_out.asChars();
  auto forged = decode_sender_key(std::string(bytes.begin(), bytes.size()));
  REQUIRE(forged);
  return std::move(*forged);
}

/// Refused with `why`, the key exactly as before.
void refuses(sender_key& key, const std::string& bytes, error why) {
  auto before = encode(key);
  auto plain = receive(key, bytes);
  REQUIRE_FALSE(plain);
  CHECK(plain.failure() == why);
  CHECK(encode(key) == before);
}

} // namespace

TEST_CASE("sender keys: every member who holds the key reads, in any order") {
  auto alice = sender_key::generate(group_id, "alice");
  auto bob = received_copy(alice);
  auto carol = received_copy(alice);
  CHECK(alice.own());
  CHECK_FALSE(bob.own());
  auto m0 = send(alice, "zero");
  auto m1 = send(alice, "one");
  auto m2 = send(alice, "two");
  receives(bob, m0, "zero");
  receives(bob, m1, "one");
  receives(bob, m2, "two");
  // Carol gets them backwards: the keys she skips wait for them.
  receives(carol, m2, "two");
  CHECK(carol.skipped_keys() == 2);
  receives(carol, m0, "zero");
  receives(carol, m1, "one");
  CHECK(carol.skipped_keys() == 0);
  // A receiver's copy cannot encrypt.
  auto sent = bob.encrypt("forged");
  REQUIRE_FALSE(sent);
  CHECK(sent.failure() == error::cannot_send);
}

TEST_CASE("sender keys: replays, tampering and forgeries are refused and change nothing") {
  auto alice = sender_key::generate(group_id, "alice");
  auto bob = received_copy(alice);
  auto m0 = send(alice, "hello");
  receives(bob, m0, "hello");
  refuses(bob, m0, error::decrypt_failed);  // a replay: the key is used up

  auto m1 = send(alice, "second");
  auto msg = decode_sender_key_message(m1);
  REQUIRE(msg);
  // A flipped ciphertext bit breaks the signature first.
  auto tampered = *msg;
  tampered.ciphertext[0] ^= 0x01;
  refuses(bob, encode(tampered), error::bad_signature);
  // So does another iteration (the header is signed).
  auto moved = *msg;
  moved.iteration += 1;
  refuses(bob, encode(moved), error::bad_signature);

  // Carol holds the same chain but not alice's signing key: she derives the
  // right message key and encrypts properly, but can only sign with a key of
  // her own. Bob refuses it.
  auto forger = forge_from(received_copy(alice));
  refuses(bob, send(forger, "alice never said this"), error::bad_signature);
  auto resigned = *msg;
  resigned.sig[5] ^= 0x80;
  refuses(bob, encode(resigned), error::bad_signature);
  receives(bob, m1, "second");  // the genuine one still opens
}

TEST_CASE("sender keys: a member who joins later cannot read what came before") {
  auto alice = sender_key::generate(group_id, "alice");
  auto bob = received_copy(alice);
  auto before = send(alice, "before dave");
  auto dave = received_copy(alice);  // handed the key as it stands now
  auto after = send(alice, "after dave");
  receives(bob, before, "before dave");
  receives(bob, after, "after dave");
  refuses(dave, before, error::decrypt_failed);
  receives(dave, after, "after dave");
}

TEST_CASE("sender keys: after a rotation the holder of the old key reads nothing new") {
  auto alice = sender_key::generate(group_id, "alice");
  auto bob = received_copy(alice);
  auto carol = received_copy(alice);
  receives(carol, send(alice, "carol is here"), "carol is here");
  // Carol leaves: alice's next key goes to bob only.
  auto rotated = sender_key::generate(group_id, "alice");
  CHECK(rotated.key_id() != alice.key_id());
  auto bob_new = received_copy(rotated);
  auto secret = send(rotated, "carol is gone");
  receives(bob_new, secret, "carol is gone");
  // Carol's old key does not match, whatever she tries.
  refuses(carol, secret, error::decrypt_failed);
  auto msg = decode_sender_key_message(secret);
  REQUIRE(msg);
  auto relabelled = *msg;
  relabelled.key_id = alice.key_id();
  refuses(carol, encode(relabelled), error::bad_signature);
  (void)bob;
}

TEST_CASE("sender keys: a message too far ahead is refused, the limit itself allowed") {
  auto alice = sender_key::generate(group_id, "alice");
  auto bob = received_copy(alice);
  auto carol = received_copy(alice);
  std::vector<std::string> sent;
  for (uint32_t i = 0; i <= max_group_skip + 1; ++i)
    sent.push_back(send(alice, "m" + std::to_string(i)));
  refuses(bob, sent.back(), error::too_far_ahead);
  receives(carol, sent[max_group_skip], "m" + std::to_string(max_group_skip));
  CHECK(carol.skipped_keys() == max_group_skip);
}

TEST_CASE("sender keys: persisted state picks up where it left off") {
  auto alice = sender_key::generate(group_id, "alice");
  auto bob = received_copy(alice);
  auto m0 = send(alice, "zero");
  auto m1 = send(alice, "one");
  receives(bob, m1, "one");
  auto alice_back = decode_sender_key(encode(alice));
  auto bob_back = decode_sender_key(encode(bob));
  REQUIRE(alice_back);
  REQUIRE(bob_back);
  CHECK(alice_back->own());
  CHECK(alice_back->iteration() == 2);
  CHECK(bob_back->skipped_keys() == 1);
  receives(*bob_back, m0, "zero");
  receives(*bob_back, send(*alice_back, "two"), "two");
  CHECK_FALSE(decode_sender_key("not a record"));
}

TEST_CASE("pairwise contents: bodies, sender keys and call payloads round-trip") {
  auto key = sender_key::generate(group_id, "alice");
  auto d = key.distribution();
  auto back = decode_content(encode(content{d}));
  REQUIRE(back);
  auto k = std::get_if<sender_key_distribution>(&*back);
  REQUIRE(k);
  CHECK(k->group == group_id);
  CHECK(k->key_id == d.key_id);
  CHECK(k->chain == d.chain);
  CHECK(k->signing_key == d.signing_key);

  auto body = decode_content(encode(content{text_body{std::string("hi\0there", 8)}}));
  REQUIRE(body);
  REQUIRE(std::holds_alternative<text_body>(*body));
  CHECK(std::get<text_body>(*body).text == std::string("hi\0there", 8));

  auto call = decode_content(encode(content{call_content{std::string(16, 'c'), 2, "sdp"}}));
  REQUIRE(call);
  auto c = std::get_if<call_content>(&*call);
  REQUIRE(c);
  CHECK(c->kind == 2);
  CHECK(c->data == "sdp");
  CHECK_FALSE(decode_content("garbage!"));
}
