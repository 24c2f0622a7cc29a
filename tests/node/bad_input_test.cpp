// Bad and hostile input: each gets an error frame with its code (and a close
// where the connection cannot be trusted); the node stays up and nobody else
// loses anything.

#include "schema/frame.hpp"
#include "support/node_process.hpp"
#include "support/temp_dir.hpp"
#include "support/users.hpp"
#include "tools/client/message_id.hpp"

#include <catch2/catch.hpp>

#include <capnp/message.h>

#include <cstring>
#include <set>

using namespace parley;
using namespace parley::test;
using namespace std::chrono_literals;
using wire::ErrorCode;

namespace {

struct fixture {
  temp_dir dir;
  node_process node;
  test_user alice;
  test_user bob;

  explicit fixture(std::vector<std::string> args = {}) : node(dir.path(), std::move(args)) {
    node.start();
    alice = register_user(node, "alice");
    bob = register_user(node, "bob");
  }

  /// A connection that has not logged in.
  std::unique_ptr<client::connection> anonymous() {
    auto conn = std::make_unique<client::connection>(node.client_options());
    REQUIRE(conn->connect());
    return conn;
  }

  /// Everybody else is fine: alice can still message bob.
  void check_others_unharmed() {
    auto a = login(node, alice);
    auto b = login(node, bob);
    auto id = new_message_id();
    REQUIRE(a->send("bob", id, "still here"));
    // Earlier messages of the test may come first.
    for (;;) {
      auto got = receive_messages(*b, 1);
      if (got[0].id == id)
        break;
    }
  }
};

/// The next error frame (the connection stays open).
client::server_error next_error(client::connection& conn) {
  for (;;) {
    auto e = conn.next_event(15s);
    INFO(why(e));
    REQUIRE(e);
    REQUIRE(*e);
    if (auto err = std::get_if<client::server_error>(&**e))
      return *err;
  }
}

std::string raw(const void* data, size_t size) {
  return std::string(static_cast<const char*>(data), size);
}

} // namespace

TEST_CASE("a malformed frame gets malformedFrame and a close") {
  fixture f;
  auto conn = f.anonymous();
  // One segment of two words whose root pointer points far outside it.
  uint32_t table[2] = {0, 2};
  uint64_t words[2] = {(uint64_t{1} << 32) | (uint64_t{1000} << 2), 0};
  REQUIRE(conn->write_raw(raw(table, sizeof(table)) + raw(words, sizeof(words))));
  CHECK(errors_until_closed(*conn) == std::vector<ErrorCode>{ErrorCode::MALFORMED_FRAME});
  f.check_others_unharmed();
}

TEST_CASE("a frame header announcing more than the limit is refused before its body") {
  fixture f;
  auto conn = f.anonymous();
  // Announces 100 MB; only the header is sent: the node must not wait for more.
  uint32_t table[2] = {0, 100 * 1024 * 1024 / 8};
  REQUIRE(conn->write_raw(raw(table, sizeof(table))));
  CHECK(errors_until_closed(*conn) == std::vector<ErrorCode>{ErrorCode::FRAME_TOO_LARGE});
  f.check_others_unharmed();
}

TEST_CASE("requests before login get notLoggedIn and the connection stays usable") {
  fixture f;
  auto conn = f.anonymous();
  REQUIRE(conn->post("bob", new_message_id(), "sneaky"));
  CHECK(next_error(*conn).code == ErrorCode::NOT_LOGGED_IN);
  auto p = conn->last_seen("bob");
  REQUIRE_FALSE(p);
  CHECK(p.error().code == ErrorCode::NOT_LOGGED_IN);
  // It can still log in properly.
  REQUIRE(conn->login("alice", f.alice.id));
  CHECK(inbox_depth(f.node, "bob") == 0);  // nothing was stored
  f.check_others_unharmed();
}

TEST_CASE("a wrong signature gets badSignature and a close") {
  fixture f;
  auto conn = f.anonymous();
  auto mallory = identity::generate();  // not alice's key
  auto welcome = conn->login("alice", mallory);
  REQUIRE_FALSE(welcome);
  CHECK(welcome.error().code == ErrorCode::BAD_SIGNATURE);
  CHECK(errors_until_closed(*conn).empty());
  f.check_others_unharmed();
}

TEST_CASE("login as an unknown user gets unknownUser") {
  fixture f;
  auto conn = f.anonymous();
  auto welcome = conn->login("nobody", identity::generate());
  REQUIRE_FALSE(welcome);
  CHECK(welcome.error().code == ErrorCode::UNKNOWN_USER);
}

TEST_CASE("a send to an unknown user gets unknownUser for that id") {
  fixture f;
  auto a = login(f.node, f.alice);
  auto id = new_message_id();
  auto sent = a->send("nobody", id, "hello?");
  REQUIRE_FALSE(sent);
  CHECK(sent.error().code == ErrorCode::UNKNOWN_USER);
  // Still logged in and working.
  REQUIRE(a->send("bob", new_message_id(), "hi"));
  f.check_others_unharmed();
}

TEST_CASE("sends with a bad id - name or payload are refused") {
  fixture f{{"--parley.max-payload=1000", "--parley.max-frame=4096"}};
  auto a = login(f.node, f.alice);
  auto bad = a->send("bob", "short", "x");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == ErrorCode::INVALID_ID);
  bad = a->send("Not A Name", new_message_id(), "x");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == ErrorCode::INVALID_NAME);
  bad = a->send("bob", new_message_id(), std::string(1001, 'x'));
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == ErrorCode::PAYLOAD_TOO_LARGE);
  REQUIRE(a->send("bob", new_message_id(), std::string(1000, 'x')));
  CHECK(inbox_depth(f.node, "bob") == 1);
}

TEST_CASE("registering a taken name gets nameTaken - the owner keeps it") {
  fixture f;
  auto conn = f.anonymous();
  auto taken = conn->register_user("alice", identity::generate());
  REQUIRE_FALSE(taken);
  CHECK(taken.error().code == ErrorCode::NAME_TAKEN);
  // The same key again is a harmless retry.
  REQUIRE(conn->register_user("alice", f.alice.id));
  auto invalid = conn->register_user("No Way", identity::generate());
  REQUIRE_FALSE(invalid);
  CHECK(invalid.error().code == ErrorCode::INVALID_NAME);
  f.check_others_unharmed();
}

TEST_CASE("a connection that never logs in is closed after the login timeout") {
  fixture f{{"--parley.login-timeout=1s"}};
  auto conn = f.anonymous();
  CHECK(errors_until_closed(*conn) == std::vector<ErrorCode>{ErrorCode::LOGIN_TIMEOUT});
  f.check_others_unharmed();
}

TEST_CASE("a client that stops reading is cut off - its messages stay in the inbox") {
  // Small queue, large window: the outgoing queue limit is what stops it.
  fixture f{{"--parley.max-outgoing-bytes=262144", "--parley.inbox-window=100000",
             "--parley.inbox-window-bytes=1000000000"}};
  auto opts = f.node.client_options();
  opts.receive_buffer = 4096;
  client::connection b(opts);
  REQUIRE(b.connect());
  REQUIRE(b.login("bob", f.bob.id));
  // bob reads nothing from here on while 400 x 60 KB arrive for him.
  const size_t total = 400;
  std::vector<std::string> payloads;
  for (size_t i = 0; i < total; ++i)
    payloads.push_back(numbered(i) + std::string(60 * 1024, 'p'));
  {
    auto a = login(f.node, f.alice);
    send_all(*a, "bob", payloads, 64);
  }
  CHECK(inbox_depth(f.node, "bob") == total);
  // Now bob reads: what the kernel held, then the end of the connection.
  std::set<std::string> got;
  for (;;) {
    auto e = b.next_event(15s);
    if (!e)
      break;
    REQUIRE(*e);  // the node closed it; a timeout would mean it did not
    if (auto m = std::get_if<client::message>(&**e))
      got.insert(m->payload.substr(0, 11));
  }
  CHECK(got.size() < total);
  // Nothing lost: a new session gets every message.
  auto again = login(f.node, f.bob);
  std::set<std::string> all;
  while (all.size() < total) {
    auto batch = receive_messages(*again, 1);
    all.insert(batch[0].payload.substr(0, 11));
    REQUIRE(again->ack("alice", {batch[0].id}, wire::AckState::DELIVERED));
  }
  CHECK(all.size() == total);
  CHECK(f.node.log_shows("slowConsumer"));
  f.check_others_unharmed();
}

TEST_CASE("garbage bytes get an error and a close - not a crash") {
  fixture f;
  auto conn = f.anonymous();
  std::string garbage(4096, '\0');
  for (size_t i = 0; i < garbage.size(); ++i)
    garbage[i] = static_cast<char>((i * 7919) ^ (i >> 3));
  REQUIRE(conn->write_raw(garbage));
  auto codes = errors_until_closed(*conn);
  REQUIRE(codes.size() == 1);
  CHECK((codes[0] == ErrorCode::MALFORMED_FRAME || codes[0] == ErrorCode::FRAME_TOO_LARGE));
  f.check_others_unharmed();
}
