// What got a sent tick survives kill -9 of the node.

#include "support/node_process.hpp"
#include "support/temp_dir.hpp"
#include "support/users.hpp"

#include <catch2/catch.hpp>

#include <csignal>

using namespace parley;
using namespace parley::test;

TEST_CASE("1000 messages with sent ticks survive SIGKILL of the node - in order - once") {
  temp_dir dir;
  node_process node{dir.path()};
  node.start();
  auto alice = register_user(node, "alice");
  auto bob = register_user(node, "bob");
  std::vector<std::string> payloads;
  for (size_t i = 0; i < 1000; ++i)
    payloads.push_back(numbered(i));
  std::vector<std::string> ids;
  {
    auto a = login(node, alice);
    ids = send_all(*a, "bob", payloads);  // every one has its sent tick
    REQUIRE(ids.size() == 1000);
    node.kill_and_wait(SIGKILL);
  }
  node.start();
  auto b = login(node, bob);
  // Acknowledge as they come so the window keeps refilling.
  std::vector<client::message> got;
  while (got.size() < 1000) {
    auto batch = receive_messages(*b, std::min<size_t>(100, 1000 - got.size()));
    std::vector<std::string> acks;
    for (auto& m : batch)
      acks.push_back(m.id);
    REQUIRE(b->ack("alice", acks, wire::AckState::DELIVERED));
    got.insert(got.end(), batch.begin(), batch.end());
  }
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("message " << i);
    CHECK(got[i].payload == numbered(i));
    CHECK(got[i].id == ids[i]);
  }
  auto sink = register_user(node, "sink");
  for (auto& e : barrier(*b, "sink"))
    CHECK_FALSE(std::holds_alternative<client::message>(e));  // no 1,001st
  CHECK(inbox_depth(node, "bob") == 0);
}

TEST_CASE("a registration that was answered survives SIGKILL") {
  temp_dir dir;
  node_process node{dir.path()};
  node.start();
  auto carol = register_user(node, "carol");
  node.kill_and_wait(SIGKILL);
  node.start();
  auto c = login(node, carol);
  REQUIRE(c->is_open());
}
