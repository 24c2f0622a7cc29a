// A large inbox drains through a bounded window of unacknowledged items.

#include "support/node_process.hpp"
#include "support/temp_dir.hpp"
#include "support/users.hpp"

#include <catch2/catch.hpp>

using namespace parley;
using namespace parley::test;

namespace {

size_t count_messages(const std::vector<client::event>& events) {
  size_t n = 0;
  for (auto& e : events)
    n += std::holds_alternative<client::message>(e) ? 1 : 0;
  return n;
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
