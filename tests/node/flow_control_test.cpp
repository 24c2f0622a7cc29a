// A large inbox drains through a bounded window of unacknowledged items.

#include "support/node_process.hpp"
#include "support/temp_dir.hpp"
#include "support/users.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace parley;
using namespace parley::test;

namespace {

size_t count_messages(const std::vector<client::event>& events) {
  size_t n = 0;
  for (auto& e : events)
    n += std::holds_alternative<client::message>(e) ? 1 : 0;
  return n;
}

/// `count` messages of 60 KB from alice wait for bob, who is offline; returns
/// their payloads in the order sent.
std::vector<std::string> large_backlog(const node_process& node, const test_user& alice,
                                       size_t count) {
  std::vector<std::string> payloads;
  for (size_t i = 0; i < count; ++i)
    payloads.push_back(numbered(i) + std::string(60 * 1024, 'p'));
  auto a = login(node, alice);
  send_all(*a, "bob", payloads, 64);
  return payloads;
}

} // namespace

TEST_CASE("a 100000-message inbox drains in order within a bounded window") {
  constexpr size_t total = 100000;
  constexpr size_t window = 256;
  temp_dir dir;
  node_process node{dir.path(), {"--parley.inbox-window=" + std::to_string(window)}};
  node.start();
  auto alice = register_user(node, "alice");
  auto bob = register_user(node, "bob");
  auto sink = register_user(node, "sink");
  {
    auto a = login(node, alice);
    std::vector<std::string> payloads;
    payloads.reserve(total);
    for (size_t i = 0; i < total; ++i)
      payloads.push_back(numbered(i));
    send_all(*a, "bob", payloads, 1024);
  }
  REQUIRE(inbox_depth(node, "bob") == total);

  auto b = login(node, bob);
  // Without acknowledgements the node sends one window and no more.
  auto first = barrier(*b, "sink");
  REQUIRE(count_messages(first) == window);
  // Each acknowledgement frees room for exactly one more.
  std::vector<client::message> pending;
  for (auto& e : first)
    if (auto m = std::get_if<client::message>(&e))
      pending.push_back(*m);
  std::vector<std::string> acks;
  for (size_t i = 0; i < 10; ++i)
    acks.push_back(pending[i].id);
  REQUIRE(b->ack("alice", acks, wire::AckState::DELIVERED));
  auto refill = barrier(*b, "sink");
  REQUIRE(count_messages(refill) == 10);
  for (auto& e : refill)
    if (auto m = std::get_if<client::message>(&e))
      pending.push_back(*m);
  pending.erase(pending.begin(), pending.begin() + 10);
  size_t next = 10;  // index of the next message expected in order
  size_t received = window + 10;
  size_t largest_unacked = window;

  // Drain: acknowledge in batches, check order and that the unacknowledged
  // count never exceeds the window.
  for (auto& m : pending)
    REQUIRE(m.payload == numbered(next++));
  while (received < total || !pending.empty()) {
    acks.clear();
    for (auto& m : pending)
      acks.push_back(m.id);
    REQUIRE(b->ack("alice", acks, wire::AckState::DELIVERED));
    size_t expect = std::min(acks.size(), total - received);
    pending = receive_messages(*b, expect);
    received += pending.size();
    largest_unacked = std::max(largest_unacked, pending.size());
    for (auto& m : pending)
      REQUIRE(m.payload == numbered(next++));
    if (received == total) {
      acks.clear();
      for (auto& m : pending)
        acks.push_back(m.id);
      REQUIRE(b->ack("alice", acks, wire::AckState::DELIVERED));
      pending.clear();
    }
  }
  CHECK(received == total);
  CHECK(largest_unacked <= window);
  for (auto& e : barrier(*b, "sink"))
    CHECK_FALSE(std::holds_alternative<client::message>(e));
  CHECK(inbox_depth(node, "bob") == 0);
}

TEST_CASE("a backlog of large messages reaches a slow reader whole - the window counts bytes") {
  // 400 x 60 KB wait for bob: 24 MB, far over the 1 MiB a session queues for a
  // client that does not keep up before it cuts it off. The window bounds the
  // bytes pushed and unacknowledged too, so bob, slow as he is, is never cut off
  // and his backlog drains.
  using namespace std::chrono_literals;
  constexpr size_t total = 400;
  temp_dir dir;
  node_process node{dir.path()};
  node.start();
  auto alice = register_user(node, "alice");
  auto bob = register_user(node, "bob");
  register_user(node, "sink");
  auto payloads = large_backlog(node, alice, total);
  REQUIRE(inbox_depth(node, "bob") == total);

  auto opts = node.client_options();
  opts.receive_buffer = 4096;
  client::connection b(opts);
  REQUIRE(b.connect());
  REQUIRE(b.login("bob", bob.id));
  std::this_thread::sleep_for(500ms);  // bob reads nothing while the node pushes
  for (size_t next = 0; next < total; ++next) {
    auto got = receive_messages(b, 1);
    REQUIRE(got[0].payload == payloads[next]);
    REQUIRE(b.ack("alice", {got[0].id}, wire::AckState::DELIVERED));
  }
  for (auto& e : barrier(b, "sink"))
    CHECK_FALSE(std::holds_alternative<client::message>(e));
  CHECK(inbox_depth(node, "bob") == 0);
  CHECK(node.log().find("slowConsumer") == std::string::npos);
}

TEST_CASE("the window also ends at parley.inbox-window-bytes - one item past it at most") {
  // 60 KB messages against a 200,000-byte window: three fit under it and the
  // fourth is the one past it; each acknowledgement frees room for one more.
  temp_dir dir;
  node_process node{dir.path(), {"--parley.inbox-window-bytes=200000"}};
  node.start();
  auto alice = register_user(node, "alice");
  auto bob = register_user(node, "bob");
  register_user(node, "sink");
  large_backlog(node, alice, 10);
  auto b = login(node, bob);
  auto first = barrier(*b, "sink");
  REQUIRE(count_messages(first) == 4);
  std::string oldest;
  for (auto& e : first)
    if (auto m = std::get_if<client::message>(&e); m && oldest.empty())
      oldest = m->id;
  REQUIRE(b->ack("alice", {oldest}, wire::AckState::DELIVERED));
  auto refill = barrier(*b, "sink");
  CHECK(count_messages(refill) == 1);
}
