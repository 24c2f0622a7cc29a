// Last seen, heartbeats, and presence notifications.

#include "actors/clock.hpp"
#include "support/node_process.hpp"
#include "support/temp_dir.hpp"
#include "support/users.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <thread>
#include <vector>

using namespace parley;
using namespace parley::test;
using namespace std::chrono_literals;

namespace {

/// Asks until `user` shows offline (presence learns it from the registry's
/// monitor, a moment after the connection ends).
client::presence await_offline(client::connection& conn, const std::string& user) {
  for (int i = 0; i < 300; ++i) {
    auto p = conn.last_seen(user);
    REQUIRE(p);
    if (!p->online)
      return *p;
    std::this_thread::sleep_for(50ms);
  }
  FAIL(user << " never went offline");
  return {};
}

} // namespace

TEST_CASE("last seen: online while connected - then when the user left") {
  temp_dir dir;
  node_process node{dir.path()};
  node.start();
  auto alice = register_user(node, "alice");
  auto bob = register_user(node, "bob");
  auto a = login(node, alice);

  auto never = a->last_seen("bob");
  REQUIRE(never);
  CHECK_FALSE(never->online);
  CHECK(never->last_seen == 0);

  auto before = now_ms();
  {
    auto b = login(node, bob);
    auto p = a->last_seen("bob");
    REQUIRE(p);
    CHECK(p->online);
    REQUIRE(b->logout());
  }
  auto p = await_offline(*a, "bob");
  CHECK(p.last_seen >= before);
  CHECK(p.last_seen <= now_ms());

  // It is in the store: a restarted node still knows it.
  auto seen = p.last_seen;
  a.reset();
  REQUIRE(node.stop() == 0);
  node.start();
  a = login(node, alice);
  auto after = a->last_seen("bob");
  REQUIRE(after);
  CHECK_FALSE(after->online);
  CHECK(after->last_seen == seen);
}

TEST_CASE("online users' last seen reaches the store each flush interval: it survives kill -9") {
  temp_dir dir;
  node_process node{dir.path(), {"--parley.presence-flush-interval=1s"}};
  node.start();
  constexpr size_t count = 40;
  std::vector<test_user> users;
  for (size_t i = 0; i < count; ++i)
    users.push_back(register_user(node, "u" + numbered(i)));
  auto watcher = register_user(node, "watcher");
  auto before = now_ms();
  std::vector<std::unique_ptr<client::connection>> online;
  for (auto& user : users)
    online.push_back(login(node, user));
  // Past a flush and the half interval its slices are spread over.
  std::this_thread::sleep_for(2500ms);
  node.kill_and_wait(SIGKILL);
  online.clear();
  node.start();
  auto w = login(node, watcher);
  for (size_t i = 0; i < count; ++i) {
    auto p = w->last_seen("u" + numbered(i));
    REQUIRE(p);
    CHECK_FALSE(p->online);
    CHECK(p->last_seen >= before);
  }
}

TEST_CASE("heartbeats keep an online user's last seen current: it survives kill -9") {
  temp_dir dir;
  // The session passes on a beat every half interval (0.5 s); presence writes
  // what it heard every second.
  node_process node{dir.path(), {"--parley.heartbeat-interval=1s",
                                 "--parley.presence-flush-interval=1s"}};
  node.start();
  auto alice = register_user(node, "alice");
  auto watcher = register_user(node, "watcher");
  auto a = login(node, alice);
  auto logged_in = now_ms();
  // Beat for 4.5 s: past three flushes after the 2.5 s mark.
  for (int i = 0; i < 18; ++i) {
    REQUIRE(a->heartbeat());
    std::this_thread::sleep_for(250ms);
  }
  node.kill_and_wait(SIGKILL);
  a.reset();
  node.start();
  auto w = login(node, watcher);
  auto p = w->last_seen("alice");
  REQUIRE(p);
  CHECK_FALSE(p->online);
  // The login alone would leave it at the login's time.
  CHECK(p->last_seen >= logged_in + 2500);
}

TEST_CASE("last seen of an unknown user is an unknownUser error") {
  temp_dir dir;
  node_process node{dir.path()};
  node.start();
  auto alice = register_user(node, "alice");
  auto a = login(node, alice);
  auto p = a->last_seen("nobody");
  REQUIRE_FALSE(p);
  CHECK(p.error().code == wire::ErrorCode::UNKNOWN_USER);
}

TEST_CASE("a connection that stops heartbeating is closed and its user shown offline") {
  temp_dir dir;
  node_process node{dir.path(),
                    {"--parley.heartbeat-interval=1s", "--parley.missed-heartbeats=2"}};
  node.start();
  auto alice = register_user(node, "alice");
  auto bob = register_user(node, "bob");
  auto b = login(node, bob);  // and then silence: no call reads or beats on it
  auto a = login(node, alice);
  auto p = a->last_seen("bob");
  REQUIRE(p);
  CHECK(p->online);
  await_offline(*a, "bob");

  bool told = false;
  for (;;) {
    auto e = b->next_event(10s);
    if (!e)
      break;  // closed by the node
    REQUIRE(*e);
    if (auto err = std::get_if<client::server_error>(&**e))
      told = err->code == wire::ErrorCode::HEARTBEAT_TIMEOUT;
  }
  CHECK(told);
  CHECK_FALSE(b->is_open());
}

TEST_CASE("a connection that keeps heartbeating stays open past the timeout") {
  temp_dir dir;
  node_process node{dir.path(),
                    {"--parley.heartbeat-interval=1s", "--parley.missed-heartbeats=2"}};
  node.start();
  auto alice = register_user(node, "alice");
  auto a = login(node, alice);
  // Reading for 4 s makes the client beat every second.
  auto e = a->next_event(4s);
  REQUIRE(e);
  CHECK_FALSE(*e);
  CHECK(a->is_open());
}

TEST_CASE("watchers hear when a user comes online and goes away") {
  temp_dir dir;
  node_process node{dir.path()};
  node.start();
  auto alice = register_user(node, "alice");
  auto bob = register_user(node, "bob");
  auto a = login(node, alice);
  REQUIRE(a->watch({"bob"}));
  a->last_seen("alice");  // a round trip: the watch is in place
  std::vector<bool> seen;
  {
    auto b = login(node, bob);
    REQUIRE(b->logout());
  }
  while (seen.size() < 2) {
    auto e = a->next_event(10s);
    REQUIRE(e);
    REQUIRE(*e);
    if (auto p = std::get_if<client::presence>(&**e); p && p->user == "bob")
      seen.push_back(p->online);
  }
  CHECK(seen == std::vector<bool>{true, false});
}
