#include "actors/store/keys.hpp"
#include "actors/store/records.hpp"

#include <catch2/catch.hpp>

using namespace parley;

TEST_CASE("inbox keys sort by seq within a user and never into another user") {
  REQUIRE(keys::inbox("bob", 2) < keys::inbox("bob", 10));
  REQUIRE(keys::inbox("bob", 255) < keys::inbox("bob", 256));
  REQUIRE(keys::inbox("bob", UINT64_MAX) < keys::inbox_end("bob"));
  REQUIRE(keys::inbox_begin("bob") <= keys::inbox("bob", 0));
  // "bo" must not include "bob"'s items, nor "bob" those of "bob.x".
  REQUIRE(keys::inbox("bob", 1) >= keys::inbox_end("bo"));
  REQUIRE(keys::inbox("bob.x", 1) >= keys::inbox_end("bob"));
  REQUIRE(keys::inbox_seq(keys::inbox("carol", 123456789)) == 123456789);
}

TEST_CASE("inbox records round-trip - messages and receipts") {
  inbox_item msg;
  msg.kind = static_cast<uint8_t>(item_kind::message);
  msg.peer = "alice";
  msg.id = std::string(16, '\x07');
  msg.payload = std::string("bin\0ary", 7);
  msg.time = 1234567;
  auto back = decode_inbox(encode_inbox(msg), 42);
  REQUIRE(back);
  CHECK(back->seq == 42);
  CHECK(back->what() == item_kind::message);
  CHECK(back->peer == "alice");
  CHECK(back->id == msg.id);
  CHECK(back->payload == msg.payload);
  CHECK(back->time == 1234567);

  inbox_item rcpt;
  rcpt.kind = static_cast<uint8_t>(item_kind::receipt);
  rcpt.state = 2;
  rcpt.peer = "bob";
  rcpt.id = std::string(16, 'a');
  rcpt.time = 99;
  rcpt.more_ids = {std::string(16, 'b'), std::string(16, 'c')};
  back = decode_inbox(encode_inbox(rcpt), 7);
  REQUIRE(back);
  CHECK(back->what() == item_kind::receipt);
  CHECK(back->state == 2);
  CHECK(back->peer == "bob");
  CHECK(back->id == rcpt.id);
  CHECK(back->more_ids == rcpt.more_ids);
  CHECK(back->payload.empty());
}

TEST_CASE("user - status and counter records round-trip and reject garbage") {
  auto user = decode_user(encode(user_record{std::string(32, 'k'), 5}));
  REQUIRE(user);
  CHECK(user->identity_key == std::string(32, 'k'));
  CHECK(user->registered_at == 5);

  message_status st{77, message_state::read, -3};
  auto status = decode_status(encode(st));
  REQUIRE(status);
  CHECK(status->seq == 77);
  CHECK(status->state == message_state::read);
  CHECK(status->time == -3);

  CHECK(decode_u64(encode_u64(0xDEADBEEF)) == 0xDEADBEEF);

  CHECK_FALSE(decode_status("short"));
  CHECK_FALSE(decode_u64("1234567"));
  CHECK_FALSE(decode_user("not capnp"));
  CHECK_FALSE(decode_inbox(std::string(16, '\xFF'), 1));
}
