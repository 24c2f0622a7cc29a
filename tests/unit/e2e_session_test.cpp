// Sessions end to end, through encoded envelopes as the node would carry them:
// conversations with DH ratchet turns, out-of-order delivery, the limits on
// skipped keys, tampering, replays, forward secrecy, and persisted state.
#include "schema/bytes.hpp"
#include "schema/e2e.capnp.h"
#include "tools/client/e2e/session.hpp"

#include <catch2/catch.hpp>

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <string>
#include <vector>

using namespace parley;
using namespace parley::e2e;

namespace {

std::string send(session& s, std::string_view text) {
  auto bytes = s.encrypt(text);
  REQUIRE(bytes);
  return *bytes;
}

envelope open_envelope(const std::string& bytes) {
  auto env = decode_envelope(bytes);
  REQUIRE(env);
  return *env;
}

result<std::string> receive(session& s, const std::string& bytes) {
  auto env = decode_envelope(bytes);
  if (!env)
    return env.failure();
  return s.decrypt(*env);
}

void receives(session& s, const std::string& bytes, std::string_view expected) {
  auto plaintext = receive(s, bytes);
  INFO("error: " << to_string(plaintext.failure()));
  REQUIRE(plaintext);
  CHECK(*plaintext == expected);
}

/// Refused with `why`, and the session exactly as before.
void refuses(session& s, const std::string& bytes, error why) {
  auto before = encode(s);
  auto plaintext = receive(s, bytes);
  REQUIRE_FALSE(plaintext);
  CHECK(plaintext.failure() == why);
  CHECK(encode(s) == before);
}

session copy_of(const session& s) {
  auto back = decode_session(encode(s));
  REQUIRE(back);
  return std::move(*back);
}

public_key ratchet_key_of(const std::string& bytes) {
  return open_envelope(bytes).message().header.dh;
}

/// Re-encodes an envelope after `change` has had its way with it.
template <class F>
std::string tampered(const std::string& bytes, F change) {
  auto env = open_envelope(bytes);
  ratchet_message& msg = std::holds_alternative<prekey_message>(env.body)
                           ? std::get<prekey_message>(env.body).message
                           : std::get<ratchet_message>(env.body);
  change(msg);
  return encode(env);
}

/// Alice and Bob with a session each, after Bob accepted Alice's first message
/// and, unless `reply` is false, Alice read Bob's first reply.
struct conversation {
  identity_key_pair alice_id = identity_key_pair::generate();
  identity_key_pair bob_id = identity_key_pair::generate();
  signed_prekey spk = signed_prekey::generate(bob_id, 3, 1700000000000);
  std::vector<one_time_prekey> otks = one_time_prekey::generate(10, 2);
  std::optional<session> alice;
  std::optional<session> bob;

  explicit conversation(bool with_otk = true, bool reply = true) {
    auto bundle = make_bundle(bob_id, spk, with_otk ? &otks[0] : nullptr);
    auto started = session::initiate(alice_id, decode_bundle(encode(bundle)).operator*());
    REQUIRE(started);
    alice = std::move(*started);
    auto first = open_envelope(send(*alice, "hello bob"));
    REQUIRE(first.prekey());
    auto accepted = session::accept(bob_id, spk, with_otk ? &otks[0] : nullptr,
                                    *first.prekey());
    REQUIRE(accepted);
    CHECK(accepted->plaintext == "hello bob");
    CHECK(accepted->used_one_time_prekey
          == (with_otk ? std::optional<uint32_t>(10) : std::nullopt));
    CHECK(accepted->opened.remote_identity() == alice_id.ed25519_public());
    bob = std::move(accepted->opened);
    if (reply)
      receives(*alice, send(*bob, "hello alice"), "hello alice");
  }
};

} // namespace

TEST_CASE("e2e session - a conversation both ways over several DH ratchet turns") {
  auto with_otk = GENERATE(true, false);
  conversation c(with_otk);
  CHECK_FALSE(c.alice->awaiting_reply());
  CHECK(c.alice->ad() == c.bob->ad());

  std::vector<public_key> alice_keys, bob_keys;
  for (int turn = 0; turn < 6; ++turn) {
    bool alice_speaks = turn % 2 == 0;
    auto& from = alice_speaks ? *c.alice : *c.bob;
    auto& to = alice_speaks ? *c.bob : *c.alice;
    for (int i = 0; i < 3; ++i) {
      auto text = "turn " + std::to_string(turn) + " message " + std::to_string(i);
      auto bytes = send(from, text);
      auto env = open_envelope(bytes);
      CHECK_FALSE(env.prekey());  // the session is set up: plain ratchet messages
      CHECK(env.message().header.n == static_cast<uint32_t>(i));
      CHECK(bytes.find(text) == std::string::npos);
      (alice_speaks ? alice_keys : bob_keys).push_back(env.message().header.dh);
      receives(to, bytes, text);
    }
  }
  // Every turn of a speaker used a new ratchet key; within a turn, one key.
  for (auto* keys : {&alice_keys, &bob_keys}) {
    REQUIRE(keys->size() == 9);
    for (size_t i = 0; i < 9; i += 3) {
      CHECK((*keys)[i] == (*keys)[i + 1]);
      CHECK((*keys)[i] == (*keys)[i + 2]);
      if (i >= 3)
        CHECK((*keys)[i] != (*keys)[i - 3]);
    }
  }
}

TEST_CASE("e2e session - the initiator sends prekey messages until it hears back") {
  conversation c(true, false);
  CHECK(c.alice->awaiting_reply());
  auto second = send(*c.alice, "second");
  auto third = send(*c.alice, "third");
  auto env = open_envelope(second);
  REQUIRE(env.prekey());
  CHECK(env.prekey()->x3dh.one_time_prekey_id == std::optional<uint32_t>(10));
  CHECK(env.prekey()->x3dh.signed_prekey_id == 3);
  CHECK(c.bob->belongs_to(*env.prekey()));
  CHECK(c.bob->base_key() == env.prekey()->x3dh.base_key);
  CHECK(c.alice->base_key() == env.prekey()->x3dh.base_key);
  receives(*c.bob, third, "third");
  receives(*c.bob, second, "second");

  receives(*c.alice, send(*c.bob, "got them"), "got them");
  CHECK_FALSE(c.alice->awaiting_reply());
  auto later = open_envelope(send(*c.alice, "later"));
  CHECK_FALSE(later.prekey());

  // Bob may get a later prekey message first (the first one is delayed): he
  // accepts that one and reads the first from a skipped key.
  conversation d(false, false);
  auto d2 = send(*d.alice, "d2");
  auto d3 = open_envelope(send(*d.alice, "d3"));
  auto late = session::accept(d.bob_id, d.spk, nullptr, *d3.prekey());
  REQUIRE(late);
  CHECK(late->plaintext == "d3");
  CHECK(late->opened.skipped_keys() == 2);
  receives(late->opened, d2, "d2");

  // A prekey message of another X3DH run is not this session's to decrypt; the
  // client accepts it into a new session instead.
  auto other_first = session::initiate(c.alice_id, make_bundle(c.bob_id, c.spk));
  REQUIRE(other_first);
  auto fresh = send(*other_first, "from a reinstalled alice");
  refuses(*c.bob, fresh, error::not_this_session);
  auto renewed = session::accept(c.bob_id, c.spk, nullptr, *open_envelope(fresh).prekey());
  REQUIRE(renewed);
  CHECK(renewed->plaintext == "from a reinstalled alice");
  // The initiator's own session never takes a prekey message.
  refuses(*c.alice, fresh, error::not_this_session);
}

TEST_CASE("e2e session - messages decrypt out of order and after the sender's ratchet moved on") {
  conversation c;
  std::vector<std::string> a;
  for (int i = 0; i < 5; ++i)
    a.push_back(send(*c.alice, "a" + std::to_string(i)));
  receives(*c.bob, a[3], "a3");
  receives(*c.bob, a[0], "a0");
  CHECK(c.bob->skipped_keys() == 2);  // a1, a2

  // Bob answers; Alice's ratchet turns; she sends from a new chain.
  receives(*c.alice, send(*c.bob, "b0"), "b0");
  std::vector<std::string> a2;
  for (int i = 0; i < 3; ++i)
    a2.push_back(send(*c.alice, "c" + std::to_string(i)));
  CHECK(ratchet_key_of(a2[0]) != ratchet_key_of(a[0]));
  CHECK(open_envelope(a2[0]).message().header.pn == 5);

  // The newest first: Bob skips a4 (old chain, through pn) and c0, c1.
  receives(*c.bob, a2[2], "c2");
  CHECK(c.bob->skipped_keys() == 5);
  receives(*c.bob, a[4], "a4");
  receives(*c.bob, a2[0], "c0");
  receives(*c.bob, a[2], "a2");
  receives(*c.bob, a2[1], "c1");
  receives(*c.bob, a[1], "a1");
  CHECK(c.bob->skipped_keys() == 0);

  // And the conversation goes on.
  receives(*c.alice, send(*c.bob, "b1"), "b1");
  receives(*c.bob, send(*c.alice, "c3"), "c3");
}

TEST_CASE("e2e session - a message more than max_skip ahead is refused without state change") {
  conversation c;
  std::vector<std::string> a;
  for (uint32_t i = 0; i <= max_skip + 1; ++i)
    a.push_back(send(*c.alice, "m" + std::to_string(i)));
  refuses(*c.bob, a[max_skip + 1], error::too_far_ahead);
  // Exactly max_skip ahead is fine.
  receives(*c.bob, a[max_skip], "m" + std::to_string(max_skip));
  CHECK(c.bob->skipped_keys() == max_skip);
  receives(*c.bob, a[max_skip + 1], "m" + std::to_string(max_skip + 1));
  receives(*c.bob, a[0], "m0");
  receives(*c.bob, a[max_skip - 1], "m" + std::to_string(max_skip - 1));

  // The same limit holds for the rest of an old chain, announced by pn.
  conversation d;
  receives(*d.bob, send(*d.alice, "x"), "x");  // Bob's ratchet turns
  for (uint32_t i = 0; i <= max_skip; ++i)
    send(*d.alice, "lost");
  receives(*d.alice, send(*d.bob, "anyone?"), "anyone?");  // and Alice's
  auto next_chain = send(*d.alice, "new chain");
  CHECK(open_envelope(next_chain).message().header.pn == max_skip + 2);
  refuses(*d.bob, next_chain, error::too_far_ahead);
}

TEST_CASE("e2e session - at most max_skipped_keys are kept, the oldest go first") {
  conversation c;
  // Chain 1: Bob gets only the last of max_skip + 1 messages.
  std::vector<std::string> chain1;
  for (uint32_t i = 0; i <= max_skip; ++i)
    chain1.push_back(send(*c.alice, "one " + std::to_string(i)));
  receives(*c.bob, chain1.back(), "one " + std::to_string(max_skip));
  receives(*c.alice, send(*c.bob, "turn"), "turn");
  // Chain 2: the same again; now the store is full.
  std::string last;
  for (uint32_t i = 0; i <= max_skip; ++i)
    last = send(*c.alice, "two");
  receives(*c.bob, last, "two");
  CHECK(c.bob->skipped_keys() == max_skipped_keys);
  // Even full, the encoded state is one Cap'n Proto segment: all of it was built
  // in the encoder's scratch memory, which is wiped (segment count - 1 == 0).
  CHECK(encode(*c.bob).substr(0, 4) == std::string(4, '\0'));
  receives(*c.alice, send(*c.bob, "turn"), "turn");
  // Chain 3: one more skipped key pushes out chain 1's message 0.
  send(*c.alice, "three 0");
  receives(*c.bob, send(*c.alice, "three 1"), "three 1");
  CHECK(c.bob->skipped_keys() == max_skipped_keys);
  refuses(*c.bob, chain1[0], error::decrypt_failed);
  receives(*c.bob, chain1[1], "one 1");
}

TEST_CASE("e2e session - a tampered message is refused and the session stays usable") {
  conversation c;
  receives(*c.bob, send(*c.alice, "first"), "first");
  // Bob's reply makes Alice's next message start a new chain, so tampering
  // is tried both within a chain and on a message that turns the ratchet.
  auto within = send(*c.alice, "within the chain");
  receives(*c.alice, send(*c.bob, "turn"), "turn");
  auto turning = send(*c.alice, "turning the ratchet");

  for (auto* original : {&turning, &within}) {
    refuses(*c.bob, tampered(*original, [](ratchet_message& m) { m.ciphertext[0] ^= 1; }),
            error::decrypt_failed);
    refuses(*c.bob,
            tampered(*original, [](ratchet_message& m) { m.ciphertext.back() ^= 0x80; }),
            error::decrypt_failed);
    refuses(*c.bob, tampered(*original, [](ratchet_message& m) { m.ciphertext.resize(8); }),
            error::decrypt_failed);
    refuses(*c.bob, tampered(*original, [](ratchet_message& m) { m.header.n += 1; }),
            error::decrypt_failed);
    refuses(*c.bob, tampered(*original, [](ratchet_message& m) { m.header.pn += 1; }),
            error::decrypt_failed);
    refuses(*c.bob,
            tampered(*original,
                     [](ratchet_message& m) { m.header.dh = x25519_key_pair::generate().pub; }),
            error::decrypt_failed);
    refuses(*c.bob, tampered(*original, [](ratchet_message& m) { m.header.dh = {}; }),
            error::bad_key);
    CHECK(receive(*c.bob, "not an envelope").failure() == error::malformed);
  }
  // After all that, the real messages still decrypt, and the talk goes on.
  receives(*c.bob, turning, "turning the ratchet");
  receives(*c.bob, within, "within the chain");
  receives(*c.alice, send(*c.bob, "still here"), "still here");
}

TEST_CASE("e2e session - a replayed message is refused") {
  conversation c;
  auto m0 = send(*c.alice, "m0");
  auto m1 = send(*c.alice, "m1");
  auto m2 = send(*c.alice, "m2");
  receives(*c.bob, m0, "m0");
  refuses(*c.bob, m0, error::decrypt_failed);  // in-order key, used
  receives(*c.bob, m2, "m2");
  receives(*c.bob, m1, "m1");
  refuses(*c.bob, m1, error::decrypt_failed);  // skipped key, used
  refuses(*c.bob, m2, error::decrypt_failed);

  // After a ratchet turn, a message of the old chain replayed.
  receives(*c.alice, send(*c.bob, "turn"), "turn");
  receives(*c.bob, send(*c.alice, "new chain"), "new chain");
  refuses(*c.bob, m0, error::decrypt_failed);
  refuses(*c.bob, m2, error::decrypt_failed);
}

TEST_CASE("e2e session - forward secrecy: the current state cannot decrypt what it consumed") {
  conversation c;
  std::vector<std::string> old;
  for (int i = 0; i < 3; ++i) {
    old.push_back(send(*c.alice, "old " + std::to_string(i)));
    receives(*c.bob, old.back(), "old " + std::to_string(i));
  }
  receives(*c.alice, send(*c.bob, "turn"), "turn");
  auto newer = send(*c.alice, "newer");
  receives(*c.bob, newer, "newer");

  // A thief copies Bob's state now: nothing he already read opens with it.
  auto stolen = copy_of(*c.bob);
  for (auto& m : old)
    CHECK_FALSE(receive(stolen, m));
  CHECK_FALSE(receive(stolen, newer));
}

TEST_CASE("e2e session - an old copy of the state cannot decrypt messages after later ratchet steps") {
  conversation c;
  auto early = copy_of(*c.bob);
  auto control = send(*c.alice, "sent while the copy was current");
  for (int turn = 0; turn < 3; ++turn) {
    receives(*c.bob, send(*c.alice, "a"), "a");
    receives(*c.alice, send(*c.bob, "b"), "b");
  }
  auto later = send(*c.alice, "after three turns");
  receives(*c.bob, later, "after three turns");

  auto old_state = copy_of(early);
  auto plaintext = receive(old_state, later);
  CHECK_FALSE(plaintext);
  // The copy itself is sound: a message of its own time still opens with it.
  receives(early, control, "sent while the copy was current");
}

TEST_CASE("e2e session - state survives encode and decode mid-conversation") {
  conversation c(true, false);
  auto a1 = send(*c.alice, "a1");
  auto a2 = send(*c.alice, "a2");
  auto a3 = send(*c.alice, "a3");

  // Alice, still awaiting a reply, restored: she still sends prekey messages.
  auto alice = copy_of(*c.alice);
  CHECK(alice.awaiting_reply());
  CHECK(alice.initiator());
  CHECK(alice.local_identity() == c.alice_id.ed25519_public());
  CHECK(alice.remote_identity() == c.bob_id.ed25519_public());
  auto a4 = send(alice, "a4");
  CHECK(open_envelope(a4).prekey());

  // Bob restored with skipped keys outstanding.
  receives(*c.bob, a3, "a3");
  auto bob = copy_of(*c.bob);
  CHECK(bob.skipped_keys() == 2);
  CHECK_FALSE(bob.initiator());
  CHECK(encode(bob) == encode(*c.bob));  // encode is stable across a round trip
  receives(bob, a1, "a1");
  bob = copy_of(bob);
  receives(bob, a4, "a4");
  receives(bob, a2, "a2");

  auto b1 = send(bob, "b1");
  receives(alice, b1, "b1");
  alice = copy_of(alice);
  CHECK_FALSE(alice.awaiting_reply());
  for (int i = 0; i < 3; ++i) {
    receives(bob, send(alice, "ping"), "ping");
    bob = copy_of(bob);
    receives(alice, send(bob, "pong"), "pong");
    alice = copy_of(alice);
  }

  CHECK(decode_session("").failure() == error::malformed);
  CHECK(decode_session(std::string(40, '\x01')).failure() == error::malformed);
  auto bytes = encode(bob);
  bytes.resize(bytes.size() - 8);
  CHECK_FALSE(decode_session(bytes));
}

TEST_CASE("e2e envelope - round trip of both kinds, refusal of other versions and garbage") {
  conversation c(true, false);
  auto pre = open_envelope(send(*c.alice, "pre"));
  REQUIRE(pre.prekey());
  auto back = open_envelope(encode(pre));
  REQUIRE(back.prekey());
  CHECK(back.prekey()->x3dh.identity_key == pre.prekey()->x3dh.identity_key);
  CHECK(back.prekey()->x3dh.base_key == pre.prekey()->x3dh.base_key);
  CHECK(back.prekey()->x3dh.signed_prekey_id == pre.prekey()->x3dh.signed_prekey_id);
  CHECK(back.prekey()->x3dh.one_time_prekey_id == pre.prekey()->x3dh.one_time_prekey_id);
  CHECK(back.message().header.dh == pre.message().header.dh);
  CHECK(back.message().header.n == pre.message().header.n);
  CHECK(back.message().ciphertext == pre.message().ciphertext);

  receives(*c.alice, send(*c.bob, "reply"), "reply");
  auto plain = open_envelope(send(*c.alice, "plain"));
  CHECK_FALSE(plain.prekey());
  CHECK(plain.message().header.n == 0);
  CHECK(plain.message().header.pn == 2);

  auto build = [](uint8_t version, size_t key_size) {
    capnp::MallocMessageBuilder message;
    auto root = message.initRoot<schema::Envelope>();
    root.setVersion(version);
    auto msg = root.initMessage();
    std::string key(key_size, '\x09');
    msg.setRatchetKey(as_data(key));
    msg.setCiphertext(as_data(std::string(40, 'c')));
    auto words = capnp::messageToFlatArray(message);
    return std::string(words.asChars().begin(), words.asChars().size());
  };
  CHECK(decode_envelope(build(envelope_version, 32)));
  CHECK(decode_envelope(build(2, 32)).failure() == error::unsupported_version);
  CHECK(decode_envelope(build(0, 32)).failure() == error::unsupported_version);
  CHECK(decode_envelope(build(envelope_version, 31)).failure() == error::malformed);
  CHECK(decode_envelope("").failure() == error::malformed);
  CHECK(decode_envelope(std::string(64, '\xfe')).failure() == error::malformed);
}

TEST_CASE("e2e ratchet - a responder cannot send before it has received") {
  auto sk = *key32::from(std::string(32, '\x01'));
  auto state = ratchet_init_responder(sk, x25519_key_pair::generate());
  CHECK(ratchet_encrypt(state, "too early", "ad").failure() == error::cannot_send);
  // An initiator has no receiving chain until a reply: a forged message naming
  // the responder's first ratchet key (the signed prekey) is refused, not a crash.
  auto bob_prekey = x25519_key_pair::generate();
  auto alice = ratchet_init_initiator(sk, bob_prekey.pub);
  REQUIRE(alice);
  ratchet_message forged;
  forged.header.dh = bob_prekey.pub;
  forged.ciphertext = std::string(40, 'x');
  CHECK(ratchet_decrypt(*alice, forged, "ad").failure() == error::decrypt_failed);
}
