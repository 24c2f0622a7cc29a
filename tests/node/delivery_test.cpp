// Delivery over real TCP against a real node: ticks, offline inboxes, order,
// retransmissions, replaced sessions.

#include "support/node_process.hpp"
#include "support/temp_dir.hpp"
#include "support/users.hpp"
#include "tools/client/message_id.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>

using namespace parley;
using namespace parley::test;
using wire::AckState;
using wire::ReceiptState;

namespace {

struct fixture {
  temp_dir dir;
  node_process node;
  test_user alice;
  test_user bob;
  test_user sink;  // receives barrier messages

  explicit fixture(std::vector<std::string> args = {}) : node(dir.path(), std::move(args)) {
    node.start();
    alice = register_user(node, "alice");
    bob = register_user(node, "bob");
    sink = register_user(node, "sink");
  }

  /// kill -9s the node and starts it again on its data; logs alice (a) and bob
  /// (b) in again.
  void kill_restart_and_log_in(std::unique_ptr<client::connection>& a,
                               std::unique_ptr<client::connection>& b) {
    b.reset();
    a.reset();
    node.kill_and_wait(SIGKILL);
    node.start();
    a = login(node, alice);
    b = login(node, bob);
  }
};

std::vector<std::string> payloads(size_t n) {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i)
    out.push_back(numbered(i));
  return out;
}

} // namespace

TEST_CASE("online delivery goes sent - delivered - read - and leaves no inbox behind") {
  fixture f;
  auto a = login(f.node, f.alice);
  auto b = login(f.node, f.bob);
  auto id = new_message_id();
  auto sent = a->send("bob", id, "hello bob");
  REQUIRE(sent);
  CHECK(sent->state == ReceiptState::SENT);
  CHECK(sent->peer == "bob");

  auto got = receive_messages(*b, 1);
  CHECK(got[0].from == "alice");
  CHECK(got[0].id == id);
  CHECK(got[0].payload == "hello bob");
  CHECK(got[0].server_time == sent->time);

  REQUIRE(b->ack("alice", {id}, AckState::DELIVERED));
  auto delivered = await_receipt(*a, id, ReceiptState::DELIVERED);
  CHECK(delivered.peer == "bob");
  REQUIRE(b->ack("alice", {id}, AckState::READ));
  auto read = await_receipt(*a, id, ReceiptState::READ);
  CHECK(read.peer == "bob");

  barrier(*a, "sink");  // the store has seen alice's receipt acks
  CHECK(inbox_depth(f.node, "bob") == 0);
  CHECK(inbox_depth(f.node, "alice") == 0);
}

TEST_CASE("messages to an offline user wait in its inbox and arrive in order") {
  fixture f;
  auto a = login(f.node, f.alice);
  auto ids = send_all(*a, "bob", payloads(50));
  CHECK(inbox_depth(f.node, "bob") == 50);

  auto b = login(f.node, f.bob);
  auto got = receive_messages(*b, 50);
  for (size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].payload == numbered(i));
    CHECK(got[i].id == ids[i]);
    if (i > 0)
      CHECK(got[i].seq > got[i - 1].seq);
  }
  REQUIRE(b->ack("alice", ids, AckState::DELIVERED));
  auto rest = barrier(*b, "sink");
  for (auto& e : rest)
    CHECK_FALSE(std::holds_alternative<client::message>(e));  // nothing twice
  CHECK(inbox_depth(f.node, "bob") == 0);
}

TEST_CASE("a client that pauses reading gets every frame whole and in order") {
  // The node writes to a socket directly until it is full, then leaves the
  // rest to CAF's writer until that has written everything: nothing may be
  // lost, doubled or cut at the switch, either way. (A peer's socket buffers
  // take a few MB: more than that is queued, under the outgoing limit and a
  // window that lets all 6 MB out unacknowledged.)
  fixture f{{"--parley.max-outgoing-bytes=33554432", "--parley.inbox-window-bytes=33554432"}};
  auto opts = f.node.client_options();
  opts.receive_buffer = 4096;
  client::connection b(opts);
  REQUIRE(b.connect());
  REQUIRE(b.login("bob", f.bob.id));
  auto a = login(f.node, f.alice);
  for (int round = 0; round < 2; ++round) {
    std::vector<std::string> sent;
    for (size_t i = 0; i < 100; ++i)
      sent.push_back(numbered(i) + std::string(60000, static_cast<char>('a' + round)));
    // bob reads nothing while 6 MB are pushed to him.
    auto ids = send_all(*a, "bob", sent, 100);
    auto got = receive_messages(b, sent.size());
    for (size_t i = 0; i < got.size(); ++i) {
      CHECK(got[i].payload == sent[i]);
      CHECK(got[i].id == ids[i]);
    }
    REQUIRE(b.ack("alice", ids, AckState::DELIVERED));
  }
  barrier(b, "sink");
  CHECK(inbox_depth(f.node, "bob") == 0);
}

TEST_CASE("receipts for an offline sender wait and arrive when it logs in - one item per acknowledgement") {
  fixture f;
  std::vector<std::string> ids;
  {
    auto a = login(f.node, f.alice);
    ids = send_all(*a, "bob", payloads(3));
    REQUIRE(a->logout());
  }
  auto b = login(f.node, f.bob);
  receive_messages(*b, 3);
  REQUIRE(b->ack("alice", ids, AckState::DELIVERED));
  REQUIRE(b->ack("alice", ids, AckState::READ));
  barrier(*b, "sink");
  // Each Ack of bob's became one receipt item for all three messages.
  CHECK(inbox_depth(f.node, "alice") == 2);

  auto a = login(f.node, f.alice);
  std::vector<client::receipt> receipts;
  while (receipts.size() < 6) {
    auto e = a->next_event(std::chrono::seconds(10));
    REQUIRE(e);
    REQUIRE(*e);
    auto r = std::get_if<client::receipt>(&**e);
    REQUIRE(r);
    receipts.push_back(*r);
  }
  // In the order bob's device produced them: all delivered, then all read.
  for (size_t i = 0; i < 3; ++i) {
    CHECK(receipts[i].id == ids[i]);
    CHECK(receipts[i].state == ReceiptState::DELIVERED);
    CHECK(receipts[i + 3].id == ids[i]);
    CHECK(receipts[i + 3].state == ReceiptState::READ);
    CHECK(receipts[i].peer == "bob");
    CHECK(receipts[i].seq == receipts[0].seq);
    CHECK(receipts[i + 3].seq == receipts[3].seq);
  }
  CHECK(receipts[3].seq > receipts[0].seq);
  std::vector<uint64_t> seqs;
  for (auto& r : receipts)
    seqs.push_back(r.seq);
  REQUIRE(a->ack_receipts(seqs));
  barrier(*a, "sink");
  CHECK(inbox_depth(f.node, "alice") == 0);
}

TEST_CASE("a retransmitted id is answered every time and delivered once") {
  fixture f;
  auto a = login(f.node, f.alice);
  auto b = login(f.node, f.bob);
  auto id = new_message_id();
  auto first = a->send("bob", id, "only once");
  auto second = a->send("bob", id, "only once");
  REQUIRE(first);
  REQUIRE(second);
  CHECK(second->time == first->time);  // the original's answer

  auto got = receive_messages(*b, 1);
  CHECK(got[0].id == id);
  for (auto& e : barrier(*b, "sink"))
    CHECK_FALSE(std::holds_alternative<client::message>(e));

  // After delivery, too: answered, not delivered again.
  REQUIRE(b->ack("alice", {id}, AckState::DELIVERED));
  await_receipt(*a, id, ReceiptState::DELIVERED);
  auto third = a->send("bob", id, "only once");
  REQUIRE(third);
  CHECK(third->time == first->time);
  for (auto& e : barrier(*b, "sink"))
    CHECK_FALSE(std::holds_alternative<client::message>(e));
  CHECK(inbox_depth(f.node, "bob") == 0);
}

TEST_CASE("a repeated acknowledgement says nothing new - before and after a restart") {
  fixture f;
  auto a = login(f.node, f.alice);
  auto b = login(f.node, f.bob);
  auto ids = send_all(*a, "bob", payloads(2));
  receive_messages(*b, 2);
  REQUIRE(b->ack("alice", ids, AckState::DELIVERED));
  await_receipt(*a, ids[0], ReceiptState::DELIVERED);
  await_receipt(*a, ids[1], ReceiptState::DELIVERED);
  // No tick an acknowledgement gave already, and no inbox item removed twice.
  auto no_new_ticks = [&](std::initializer_list<ReceiptState> allowed) {
    barrier(*b, "sink");  // bob's acknowledgements are done
    for (auto& e : barrier(*a, "sink")) {
      auto r = std::get_if<client::receipt>(&e);
      if (r && r->peer == "bob")
        CHECK(std::find(allowed.begin(), allowed.end(), r->state) != allowed.end());
    }
  };
  REQUIRE(b->ack("alice", ids, AckState::DELIVERED));
  no_new_ticks({});
  // From disk, after a restart: delivered still, so only the read tick is new.
  f.kill_restart_and_log_in(a, b);
  REQUIRE(b->ack("alice", {ids[0]}, AckState::DELIVERED));
  no_new_ticks({});
  REQUIRE(b->ack("alice", {ids[0]}, AckState::READ));
  CHECK(await_receipt(*a, ids[0], ReceiptState::READ).peer == "bob");
  REQUIRE(b->ack("alice", {ids[0]}, AckState::READ));
  REQUIRE(b->ack("alice", ids, AckState::DELIVERED));
  no_new_ticks({});
  // bob's inbox counts none of them: a new message is taken and delivered.
  auto more = a->send("bob", new_message_id(), "after all that");
  REQUIRE(more);
  CHECK(receive_messages(*b, 1)[0].id == more->id);
  CHECK(inbox_depth(f.node, "bob") == 1);
}

TEST_CASE("inbox seqs never repeat - not after a drained inbox and a restart either") {
  fixture f;
  auto a = login(f.node, f.alice);
  auto b = login(f.node, f.bob);
  auto first = send_all(*a, "bob", {"first"});
  auto got = receive_messages(*b, 1);
  REQUIRE(b->ack("alice", first, AckState::DELIVERED));
  await_receipt(*a, first[0], ReceiptState::DELIVERED);
  f.kill_restart_and_log_in(a, b);
  auto second = send_all(*a, "bob", {"second"});
  auto again = receive_messages(*b, 1);
  CHECK(again[0].id == second[0]);
  CHECK(again[0].seq > got[0].seq);
  // A late repeat of the first acknowledgement cannot touch the second message.
  REQUIRE(b->ack("alice", first, AckState::DELIVERED));
  barrier(*b, "sink");
  CHECK(inbox_depth(f.node, "bob") == 1);
}

TEST_CASE("unacknowledged messages come again to the next session - acked ones not") {
  fixture f;
  auto a = login(f.node, f.alice);
  auto ids = send_all(*a, "bob", payloads(4));
  {
    auto b = login(f.node, f.bob);
    receive_messages(*b, 4);
    REQUIRE(b->ack("alice", {ids[0], ids[1]}, AckState::DELIVERED));
    barrier(*b, "sink");
  }  // disconnects without acknowledging the last two
  auto b = login(f.node, f.bob);
  auto again = receive_messages(*b, 2);
  CHECK(again[0].id == ids[2]);
  CHECK(again[1].id == ids[3]);
}

TEST_CASE("a second login of the same user replaces the first connection") {
  fixture f;
  auto first = login(f.node, f.bob);
  auto second = login(f.node, f.bob);
  // The first is told why and closed.
  bool replaced = false;
  for (;;) {
    auto e = first->next_event(std::chrono::seconds(10));
    if (!e)
      break;  // closed
    REQUIRE(*e);
    if (auto err = std::get_if<client::server_error>(&**e))
      replaced = err->code == wire::ErrorCode::REPLACED;
  }
  CHECK(replaced);
  // Messages go to the second.
  auto a = login(f.node, f.alice);
  REQUIRE(a->send("bob", new_message_id(), "to the new one"));
  auto got = receive_messages(*second, 1);
  CHECK(got[0].payload == "to the new one");
}
