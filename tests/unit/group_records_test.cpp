// The records groups add to the store, each with its one encode and decode, the
// keys they live under, and TURN credentials as coturn expects them.
#include "actors/call/turn.hpp"
#include "actors/store/keys.hpp"
#include "actors/store/records.hpp"

#include <catch2/catch.hpp>

using namespace parley;

TEST_CASE("group records round-trip with members, admins and pending notices") {
  group_state g;
  g.group = std::string(32, 'a');
  g.name = "friends";
  g.epoch = 7;
  g.created_by = "alice";
  g.created_at = 1234;
  g.members = {{"alice", true}, {"bob", false}};
  g.pending.push_back(pending_notice{7, "alice", 2, {"carol"}, {"alice", "bob", "carol"}, 99});
  auto back = decode_group(encode(g), g.group);
  REQUIRE(back);
  CHECK(back->group == g.group);
  CHECK(back->name == "friends");
  CHECK(back->epoch == 7);
  CHECK(back->created_by == "alice");
  CHECK(back->created_at == 1234);
  REQUIRE(back->members.size() == 2);
  CHECK(back->is_admin("alice"));
  CHECK_FALSE(back->is_admin("bob"));
  CHECK(back->find("carol") == nullptr);
  REQUIRE(back->pending.size() == 1);
  CHECK(back->pending[0].members == std::vector<std::string>{"carol"});
  CHECK(back->pending[0].recipients.size() == 3);
  CHECK(back->pending[0].time == 99);
  CHECK_FALSE(decode_group("nonsense", g.group));
}

TEST_CASE("group ledger records and counts round-trip") {
  group_message_entry e{42, {"bob", "carol"}};
  auto back = decode_group_message(encode(e));
  REQUIRE(back);
  CHECK(back->time == 42);
  CHECK(back->recipients == e.recipients);
  group_counts c{1024, 1000, 3};
  auto counts = decode_group_counts(encode(c));
  REQUIRE(counts);
  CHECK(counts->recipients == 1024);
  CHECK(counts->delivered == 1000);
  CHECK(counts->read == 3);
  auto r = decode_member_receipt(encode_member_receipt(2, -5));
  REQUIRE(r);
  CHECK(r->first == 2);
  CHECK(r->second == -5);
}

TEST_CASE("statuses of group messages keep their group; direct ones stay as they were") {
  message_status direct{5, message_state::delivered, 77, {}};
  CHECK(encode(direct).size() == 17);
  auto d = decode_status(encode(direct));
  REQUIRE(d);
  CHECK(d->group.empty());
  message_status grouped{6, message_state::stored, 78, std::string(32, 'f')};
  auto g = decode_status(encode(grouped));
  REQUIRE(g);
  CHECK(g->seq == 6);
  CHECK(g->group == grouped.group);
  CHECK_FALSE(decode_status(encode(direct) + "x"));
}

TEST_CASE("forwarded receipts and notices keep what makes them group items") {
  forwarded_receipt r{"alice", "bob", std::string(16, 'i'), 1, 55,
                      static_cast<uint8_t>(receipt_kind::member), std::string(32, 'b')};
  auto back = decode_forward(encode(r));
  REQUIRE(back);
  CHECK(back->what() == receipt_kind::member);
  CHECK(back->group == r.group);

  inbox_item n;
  n.kind = static_cast<uint8_t>(item_kind::notice);
  n.state = 1;
  n.peer = "alice";
  n.group = std::string(32, 'c');
  n.name = "team";
  n.epoch = 3;
  n.members = {"dave", "erin"};
  n.time = 8;
  auto item = decode_inbox(encode_inbox(n), 12);
  REQUIRE(item);
  CHECK(item->what() == item_kind::notice);
  CHECK(item->id == notice_id(3));
  CHECK(item->name == "team");
  CHECK(item->epoch == 3);
  CHECK(item->members == n.members);

  inbox_item m;
  m.kind = static_cast<uint8_t>(item_kind::message);
  m.peer = "alice";
  m.id = std::string(16, 'x');
  m.group = std::string(32, 'd');
  auto msg = decode_inbox(encode_inbox(m), 13);
  REQUIRE(msg);
  CHECK(msg->group == m.group);
}

TEST_CASE("group keys keep one message's recipients together") {
  auto id = std::string("\0\1\2\3\4\5\6\7\0\1\2\3\4\5\6\7", 16);
  auto g = std::string(32, 'e');
  auto begin = keys::group_receipts_begin(g, "alice", id);
  auto end = keys::group_receipts_end(g, "alice", id);
  auto bob = keys::group_receipt(g, "alice", id, "bob");
  CHECK(begin <= bob);
  CHECK(bob < end);
  // Another sender's, or another message's, receipts are outside.
  CHECK_FALSE(keys::group_receipt(g, "alicf", id, "bob") < end);
  auto other = keys::group_receipt(g, "alic", id, "bob");
  CHECK_FALSE((begin <= other && other < end));
  CHECK(valid_group_id(g));
  CHECK_FALSE(valid_group_id(std::string(32, 'g')));
  CHECK_FALSE(valid_group_id("abc"));
}

TEST_CASE("TURN credentials are coturn's REST-API scheme") {
  // RFC 2202, test case 2.
  CHECK(hmac_sha1_base64("Jefe", "what do ya want for nothing?")
        == "7/zfauXrL6LSdBbV8YTfnCWafHk=");
  turn_config config{"test-secret-123", {"turn:127.0.0.1:3478"}, std::chrono::seconds(600)};
  auto c = make_turn_credentials(config, "alice", 1699999400);
  CHECK(c.username == "1700000000:alice");
  // As `openssl dgst -sha1 -hmac test-secret-123 -binary | base64` computes it.
  CHECK(c.password == "pA1fHEfdy/KTEi5KBnBQMXmUDyI=");
  CHECK(c.ttl_seconds == 600);
  CHECK(c.uris == config.uris);
}
