// The node's limits against hostile or runaway clients: each answers with its
// own error code (and when to retry), never a silent drop.

#include "support/node_process.hpp"
#include "support/temp_dir.hpp"
#include "support/users.hpp"
#include "tools/client/message_id.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <thread>

using namespace parley;
using namespace parley::test;
using namespace std::chrono_literals;
using wire::ErrorCode;

TEST_CASE("a connection sending faster than its rate gets rateLimited with a wait") {
  temp_dir dir;
  node_process node{dir.path(), {"--parley.rate-messages=10"}};  // burst 20
  node.start();
  auto alice = register_user(node, "alice");
  register_user(node, "bob");
  auto a = login(node, alice);
  std::vector<std::string> ids;
  for (int i = 0; i < 40; ++i) {
    ids.push_back(new_message_id());
    REQUIRE(a->post("bob", ids.back(), "x"));
  }
  std::set<std::string> sent;
  std::string first_refused;
  uint32_t wait = 0;
  size_t held = 0;
  while (sent.size() + held + (first_refused.empty() ? 0 : 1) < ids.size()) {
    auto e = a->next_event(10s);
    REQUIRE(e);
    REQUIRE(*e);
    auto r = std::get_if<client::receipt>(&**e);
    if (r && r->state == wire::ReceiptState::SENT)
      sent.insert(r->id);
    if (auto err = std::get_if<client::server_error>(&**e)) {
      CHECK_FALSE(err->refers_to.empty());
      if (first_refused.empty()) {
        REQUIRE(err->code == ErrorCode::RATE_LIMITED);
        first_refused = err->refers_to;
        wait = err->retry_after_ms;
      } else {
        // Held behind the refused one, whatever the allowance by then.
        CHECK(err->code == ErrorCode::UNAVAILABLE);
        ++held;
      }
    }
  }
  CHECK(sent.size() >= 20);
  REQUIRE_FALSE(first_refused.empty());
  CHECK(wait > 0);
  // What was taken is the run before the refused one: nothing after it.
  auto refused_at = std::find(ids.begin(), ids.end(), first_refused);
  REQUIRE(refused_at + 1 < ids.end());
  CHECK(sent == std::set<std::string>(ids.begin(), refused_at));
  std::this_thread::sleep_for(std::chrono::milliseconds(wait));
  // Waiting as told is enough for the refused one, but a new message must not
  // go ahead of it; sent again, it is taken, and then the ones behind it.
  auto jumped = a->send("bob", new_message_id(), "ahead of the refused one");
  REQUIRE_FALSE(jumped);
  CHECK(jumped.error().code == ErrorCode::UNAVAILABLE);
  REQUIRE(a->send("bob", first_refused, "x"));
  // The next token: `wait` was the time to the token then, which may have been
  // part of one; a whole one comes every 100 ms at 10 a second.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  REQUIRE(a->send("bob", *(refused_at + 1), "x"));
  CHECK(inbox_depth(node, "bob") == sent.size() + 2);  // refused ones were not stored
}

TEST_CASE("group requests and call signals spend the same allowance as sends") {
  temp_dir dir;
  node_process node{dir.path(), {"--parley.rate-messages=5"}};  // burst 10
  node.start();
  auto alice = register_user(node, "alice");
  register_user(node, "bob");
  auto a = login(node, alice);
  auto group = std::string(16, '\x07');
  REQUIRE(a->create_group(group, "g", {"bob"}));
  // Queries until one is refused: the burst, not more.
  int answered = 1;
  for (;; ++answered) {
    auto q = a->query_group(group);
    if (!q) {
      CHECK(q.error().code == ErrorCode::RATE_LIMITED);
      CHECK(q.error().retry_after_ms > 0);
      break;
    }
    REQUIRE(answered < 40);
  }
  CHECK(answered <= 11);
  // Call offers from the same empty allowance are refused too.
  REQUIRE(a->call(std::string(16, '\x09'), "bob", wire::CallSignalKind::OFFER, "sdp"));
  bool limited = false;
  while (!limited) {
    auto e = a->next_event(10s);
    REQUIRE(e);
    REQUIRE(*e);
    if (auto err = std::get_if<client::server_error>(&**e))
      limited = err->code == ErrorCode::RATE_LIMITED;
  }
  CHECK(limited);
}

TEST_CASE("repeated wrong login proofs make the user wait") {
  temp_dir dir;
  node_process node{dir.path(), {"--parley.login-failures=3"}};
  node.start();
  auto alice = register_user(node, "alice");
  for (int i = 0; i < 3; ++i) {
    client::connection conn(node.client_options());
    REQUIRE(conn.connect());
    auto welcome = conn.login("alice", identity::generate());
    REQUIRE_FALSE(welcome);
    CHECK(welcome.error().code == ErrorCode::BAD_SIGNATURE);
  }
  // Now even the right key must wait; the answer says how long.
  client::connection conn(node.client_options());
  REQUIRE(conn.connect());
  auto welcome = conn.login("alice", alice.id);
  REQUIRE_FALSE(welcome);
  CHECK(welcome.error().code == ErrorCode::RATE_LIMITED);
  CHECK(welcome.error().retry_after_ms > 0);
  // Other users are not affected.
  auto bob = register_user(node, "bob");
  REQUIRE(login(node, bob));
}

TEST_CASE("an address flooding logins gets rateLimited") {
  temp_dir dir;
  node_process node{dir.path(), {"--parley.login-rate=2"}};  // burst 20
  node.start();
  auto alice = register_user(node, "alice");
  size_t ok = 0, limited = 0;
  for (int i = 0; i < 40; ++i) {
    client::connection conn(node.client_options());
    REQUIRE(conn.connect());
    auto welcome = conn.login("alice", alice.id);
    if (welcome)
      ++ok;
    else if (welcome.error().code == ErrorCode::RATE_LIMITED)
      ++limited;
  }
  CHECK(ok >= 20);
  CHECK(limited > 0);
  CHECK(ok + limited == 40);
}

TEST_CASE("a full inbox refuses new messages with inboxFull until it drains") {
  temp_dir dir;
  node_process node{dir.path(), {"--parley.inbox-quota=5"}};
  node.start();
  auto alice = register_user(node, "alice");
  auto bob = register_user(node, "bob");
  auto a = login(node, alice);
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(new_message_id());
    REQUIRE(a->send("bob", ids.back(), numbered(i)));
  }
  // A retransmission of a stored one is still answered.
  REQUIRE(a->send("bob", ids[0], numbered(0)));
  auto refused_id = new_message_id();
  auto full = a->send("bob", refused_id, "one too many");
  REQUIRE_FALSE(full);
  CHECK(full.error().code == ErrorCode::INBOX_FULL);
  // bob drains his inbox; there is room again.
  auto b = login(node, bob);
  receive_messages(*b, 5);
  REQUIRE(b->ack("alice", ids, wire::AckState::DELIVERED));
  for (int i = 0; i < 100 && inbox_depth(node, "bob") > 0; ++i)
    std::this_thread::sleep_for(20ms);
  REQUIRE(inbox_depth(node, "bob") == 0);
  // Still, a later message from alice must not go ahead of the refused one,
  // not even on a new connection (one sent behind it may be on its way).
  a = login(node, alice);
  auto later_id = new_message_id();
  auto later = a->send("bob", later_id, "behind it");
  REQUIRE_FALSE(later);
  CHECK(later.error().code == ErrorCode::INBOX_FULL);
  // Sent again (on a new connection, as this one now holds every send behind
  // the refused later one), the refused one is taken, then the later one; bob
  // gets them in that order.
  a = login(node, alice);
  REQUIRE(a->send("bob", refused_id, "one too many"));
  REQUIRE(a->send("bob", later_id, "behind it"));
  auto got = receive_messages(*b, 2);
  REQUIRE(got.size() == 2);
  CHECK(got[0].id == refused_id);
  CHECK(got[1].id == later_id);
}

TEST_CASE("connections over the node's limit get tooManyConnections") {
  temp_dir dir;
  node_process node{dir.path(), {"--parley.max-connections=3"}};
  node.start();
  std::vector<std::unique_ptr<client::connection>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::make_unique<client::connection>(node.client_options()));
    REQUIRE(held.back()->connect());
    REQUIRE(held.back()->heartbeat());  // a round trip: the node has it
    auto e = held.back()->next_event(2s);
    REQUIRE(e);
  }
  client::connection extra(node.client_options());
  REQUIRE(extra.connect());
  auto e = extra.next_event(10s);
  REQUIRE(e);
  REQUIRE(*e);
  auto err = std::get_if<client::server_error>(&**e);
  REQUIRE(err);
  CHECK(err->code == ErrorCode::TOO_MANY_CONNECTIONS);
  auto closed = extra.next_event(10s);
  CHECK_FALSE(closed);  // and closed
  // One leaves: there is room again.
  held.pop_back();
  bool in = false;
  for (int i = 0; i < 100 && !in; ++i) {
    client::connection again(node.client_options());
    REQUIRE(again.connect());
    REQUIRE(again.heartbeat());
    auto pong = again.next_event(2s);
    in = pong && !*pong;  // a pong is no event: nothing came but the pong
    if (!in)
      std::this_thread::sleep_for(20ms);
  }
  CHECK(in);
}
