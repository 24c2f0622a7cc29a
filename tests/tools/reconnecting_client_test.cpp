// The reconnecting client against real parley-node processes: queueing while
// the node is down, retransmissions, duplicates after reconnects, silent links.

#include "support/node_process.hpp"
#include "support/temp_dir.hpp"
#include "support/users.hpp"
#include "tests/chaos/tcp_proxy.hpp"
#include "tools/client/device_store.hpp"
#include "tools/client/message_id.hpp"
#include "tools/client/reconnecting_client.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <poll.h>

using namespace parley;
using namespace parley::test;
using namespace std::chrono_literals;
using client::tick_state;

namespace {

client::reconnect_options quick() {
  client::reconnect_options o;
  o.initial_backoff = 50ms;
  o.max_backoff = 500ms;
  return o;
}

/// A user's device: its store and its reconnecting client, and what it reported.
struct device {
  std::unique_ptr<client::device_store> store;
  std::unique_ptr<client::reconnecting_client> client;
  std::vector<client::update> seen;

  device(const std::string& path, client::options server, const test_user& user,
         client::reconnect_options opts = quick()) {
    auto s = client::device_store::open(path);
    INFO((s ? std::string() : s.error().describe()));
    REQUIRE(s);
    store = std::move(*s);
    client = std::make_unique<client::reconnecting_client>(*store, std::move(server),
                                                           user.name, user.id, opts);
  }

  void step(std::chrono::milliseconds wait = 50ms) {
    auto u = client->step(wait);
    INFO((u ? std::string() : u.error().describe()));
    REQUIRE(u);
    seen.insert(seen.end(), u->begin(), u->end());
  }

  template <class T>
  size_t count() const {
    size_t n = 0;
    for (auto& u : seen)
      n += std::holds_alternative<T>(u) ? 1 : 0;
    return n;
  }

  size_t outbox_size() {
    auto n = store->outbox_size();
    REQUIRE(n);
    return *n;
  }

  size_t undelivered() {
    auto n = store->count_outgoing_below(tick_state::delivered);
    REQUIRE(n);
    return *n;
  }

  std::vector<client::stored_message> incoming() {
    auto all = store->all_messages();
    REQUIRE(all);
    std::vector<client::stored_message> out;
    for (auto& m : *all)
      if (!m.outgoing)
        out.push_back(m);
    return out;
  }
};

/// Steps every device until `done` holds; fails the test after a minute.
template <class Done>
void run_until(std::vector<device*> devices, Done done) {
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!done()) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    for (auto d : devices)
      d->step(devices.size() > 1 ? 20ms : 50ms);
  }
}

std::vector<std::string> bodies(const std::vector<client::stored_message>& ms) {
  std::vector<std::string> out;
  for (auto& m : ms)
    out.push_back(m.body);
  return out;
}

} // namespace

TEST_CASE("messages queued while the node is down go out in order when it is back") {
  temp_dir dir;
  node_process node{dir.path()};
  node.start();
  auto alice_user = register_user(node, "alice");
  auto bob_user = register_user(node, "bob");
  node.kill_and_wait(SIGKILL);

  device alice{dir / "alice.sqlite", node.client_options(5), alice_user};
  std::vector<std::string> ids;
  for (size_t i = 0; i < 5; ++i) {
    auto m = alice.client->send("bob", numbered(i));
    REQUIRE(m);
    ids.push_back(m->id);
  }
  alice.step();
  CHECK_FALSE(alice.client->connected());
  CHECK(alice.count<client::link_down>() >= 1);
  CHECK(alice.outbox_size() == 5);

  node.start();
  run_until({&alice}, [&] { return alice.outbox_size() == 0; });
  CHECK(alice.count<client::link_up>() == 1);

  device bob{dir / "bob.sqlite", node.client_options(5), bob_user};
  run_until({&alice, &bob}, [&] { return alice.undelivered() == 0; });
  auto got = bob.incoming();
  REQUIRE(got.size() == 5);
  for (size_t i = 0; i < 5; ++i) {
    CHECK(got[i].body == numbered(i));
    CHECK(got[i].id == ids[i]);
  }
  CHECK(bob.count<client::message>() == 5);
  CHECK(inbox_depth(node, "bob") == 0);
}

TEST_CASE("messages the device stored before a crash are acknowledged again - not stored twice") {
  temp_dir dir;
  node_process node{dir.path()};
  node.start();
  auto alice_user = register_user(node, "alice");
  auto bob_user = register_user(node, "bob");
  device alice{dir / "alice.sqlite", node.client_options(5), alice_user};
  for (auto text : {"one", "two", "three"})
    REQUIRE(alice.client->send("bob", text));
  run_until({&alice}, [&] { return alice.outbox_size() == 0; });

  {
    // Bob's last run stored the messages and died before acknowledging them.
    auto b = login(node, bob_user);
    auto pushed = receive_messages(*b, 3);
    auto s = client::device_store::open(dir / "bob.sqlite");
    REQUIRE(s);
    for (auto& m : pushed)
      REQUIRE(*(*s)->record_incoming(m));
  }
  // The node pushes them again to the next session.
  device bob{dir / "bob.sqlite", node.client_options(5), bob_user};
  run_until({&alice, &bob}, [&] { return alice.undelivered() == 0; });
  CHECK(bodies(bob.incoming()) == std::vector<std::string>{"one", "two", "three"});
  CHECK(bob.count<client::message>() == 0);  // nothing new to show
  CHECK(inbox_depth(node, "bob") == 0);
}

TEST_CASE("a send whose sent tick was lost goes again with its id and is delivered once") {
  temp_dir dir;
  node_process node{dir.path()};
  node.start();
  auto alice_user = register_user(node, "alice");
  auto bob_user = register_user(node, "bob");
  auto sink_user = register_user(node, "sink");
  std::string id;
  {
    auto s = client::device_store::open(dir / "alice.sqlite");
    REQUIRE(s);
    auto m = (*s)->enqueue("bob", "only once");
    REQUIRE(m);
    id = m->id;
    // It reached the node, which stored it; the tick never reached the store.
    auto a = login(node, alice_user);
    REQUIRE(a->send("bob", m->id, m->body));
  }
  device alice{dir / "alice.sqlite", node.client_options(5), alice_user};
  run_until({&alice}, [&] { return alice.outbox_size() == 0; });

  auto b = login(node, bob_user);
  auto got = receive_messages(*b, 1);
  CHECK(got[0].id == id);
  for (auto& e : barrier(*b, "sink"))
    CHECK_FALSE(std::holds_alternative<client::message>(e));
}

TEST_CASE("a node killed mid-stream loses, repeats and reorders nothing") {
  temp_dir dir;
  node_process node{dir.path()};
  node.start();
  auto alice_user = register_user(node, "alice");
  auto bob_user = register_user(node, "bob");
  device alice{dir / "alice.sqlite", node.client_options(5), alice_user};
  device bob{dir / "bob.sqlite", node.client_options(5), bob_user};
  constexpr size_t total = 1000;
  for (size_t i = 0; i < total; ++i)
    REQUIRE(alice.client->send("bob", numbered(i)));
  // A step takes at most a window of ticks out of the outbox: this stops with
  // sends in flight and most of the outbox still to go.
  run_until({&alice, &bob}, [&] { return alice.outbox_size() <= total - 100; });
  REQUIRE(alice.outbox_size() > 0);
  node.kill_and_wait(SIGKILL);
  alice.step();
  bob.step();
  node.start();
  run_until({&alice, &bob}, [&] { return alice.undelivered() == 0; });
  CHECK(alice.count<client::link_up>() >= 2);
  auto got = bob.incoming();
  REQUIRE(got.size() == total);
  for (size_t i = 0; i < total; ++i)
    CHECK(got[i].body == numbered(i));
}

TEST_CASE("a silent link is noticed from missed pongs and replaced") {
  temp_dir dir;
  node_process node{dir.path()};
  node.start();
  auto alice_user = register_user(node, "alice");
  auto bob_user = register_user(node, "bob");
  chaos::tcp_proxy proxy{{{"127.0.0.1", node.port()}}, 1};
  std::string error;
  REQUIRE(proxy.start(error));
  auto via_proxy = node.client_options(5);
  via_proxy.port = proxy.port();
  auto opts = quick();
  opts.heartbeat = 200ms;
  device alice{dir / "alice.sqlite", via_proxy, alice_user, opts};
  run_until({&alice}, [&] { return alice.client->connected(); });

  // Nothing passes either way now, and no error says so.
  proxy.stall_one(60s);
  REQUIRE(alice.client->send("bob", "through the silence"));
  run_until({&alice}, [&] { return !alice.client->connected(); });
  auto down = std::get_if<client::link_down>(&alice.seen.back());
  REQUIRE(down);
  CHECK(down->why.what == client::failure::kind::timeout);

  run_until({&alice}, [&] { return alice.outbox_size() == 0; });
  device bob{dir / "bob.sqlite", node.client_options(5), bob_user};
  run_until({&alice, &bob}, [&] { return alice.undelivered() == 0; });
  CHECK(bodies(bob.incoming()) == std::vector<std::string>{"through the silence"});
}

TEST_CASE("read marks reach the sender - also when made while offline") {
  temp_dir dir;
  node_process node{dir.path()};
  node.start();
  auto alice_user = register_user(node, "alice");
  auto bob_user = register_user(node, "bob");
  device alice{dir / "alice.sqlite", node.client_options(5), alice_user};
  device bob{dir / "bob.sqlite", node.client_options(5), bob_user};
  auto m = alice.client->send("bob", "read me");
  REQUIRE(m);
  run_until({&alice, &bob}, [&] { return alice.undelivered() == 0; });

  // Bob reads it while his link is down: the mark waits for the next link.
  bob.client->disconnect("going through a tunnel");
  REQUIRE(bob.client->mark_read("alice", {m->id}));
  auto read_at_alice = [&] {
    auto h = alice.store->history("bob");
    REQUIRE(h);
    return h->front().state == tick_state::read;
  };
  run_until({&alice, &bob}, read_at_alice);
  run_until({&bob}, [&] { return bob.store->unconfirmed_reads()->empty(); });
}

TEST_CASE("a step that may not wait still takes what has arrived") {
  // What an interactive program does: poll the socket, then step without waiting.
  temp_dir dir;
  node_process node{dir.path()};
  node.start();
  auto alice_user = register_user(node, "alice");
  auto bob_user = register_user(node, "bob");
  device bob{dir / "bob.sqlite", node.client_options(5), bob_user};
  run_until({&bob}, [&] { return bob.client->connected(); });
  auto a = login(node, alice_user);
  REQUIRE(a->send("bob", new_message_id(), "hello"));
  for (int rounds = 0; bob.count<client::message>() == 0; ++rounds) {
    // Each round starts with something to read; it cannot take many.
    REQUIRE(rounds < 10);
    pollfd p{bob.client->fd(), POLLIN, 0};
    REQUIRE(::poll(&p, 1, 10000) == 1);
    bob.step(0ms);
  }
  CHECK(bob.incoming().size() == 1);
}
