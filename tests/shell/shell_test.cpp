// parley-shell against a live two-node cluster: every command, checked against
// what the test did; an interactive session in a pseudo-terminal; and the
// Prometheus endpoint's figures moving as messages flow.

#include "schema/bytes.hpp"
#include "schema/frame.hpp"
#include "schema/protocol.capnp.h"
#include "schema/rules.hpp"
#include "support/cluster.hpp"
#include "support/commands.hpp"
#include "support/sockets.hpp"
#include "support/users.hpp"
#include "tools/client/message_id.hpp"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <csignal>
#include <fstream>
#include <poll.h>
#include <pty.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace parley;
using namespace parley::test;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

command_result shell(node_process& node, const std::string& secret_file,
                   const std::string& command, bool as_json = true) {
  auto cmd = std::string(PARLEY_SHELL_BIN) + " --node 127.0.0.1:"
             + std::to_string(node.admin_port()) + " --secret-file " + secret_file
             + (as_json ? " --json" : "") + " -c '" + command + "' 2>&1";
  return run_command(cmd);
}

json parsed(const command_result& r) {
  INFO(r.out);
  auto doc = json::parse(r.out, nullptr, false);
  REQUIRE_FALSE(doc.is_discarded());
  return doc;
}

/// One of `actor`'s figures on `node`, asked through `via`'s admin port.
int figure_of(node_process& via, const std::string& secret, const std::string& node,
              const std::string& actor, const std::string& figure) {
  auto stats = parsed(shell(via, secret, "stats --node " + node));
  return stats[actor][figure].get<int>();
}

/// Asks `figure()` every 100 ms, for up to 10 s, until it is `expected`;
/// returns its last answer.
template <class F>
int settles_at(F figure, int expected) {
  auto now = figure();
  for (int i = 0; i < 100 && now != expected; ++i) {
    std::this_thread::sleep_for(100ms);
    now = figure();
  }
  return now;
}

} // namespace

TEST_CASE("parley-shell: every command against a live two-node cluster") {
  cluster c{2};
  c.start();
  auto alice = register_user(c.node(0), c.user_homed_on(0, "alice"));
  auto bob = register_user(c.node(0), c.user_homed_on(1, "bob"));
  auto carol = register_user(c.node(0), c.user_homed_on(0, "carol"));
  auto secret = c.secret_file();
  {
    auto a = login(c.node(0), alice);
    for (int i = 0; i < 5; ++i)
      REQUIRE(a->send(bob.name, new_message_id(), "to an offline user"));
  }
  auto cc = login(c.node(1), carol);  // carol online, connected through n2

  auto nodes = parsed(shell(c.node(0), secret, "nodes"));
  REQUIRE(nodes.size() == 2);
  for (auto& n : nodes)
    CHECK(n["up"] == true);
  CHECK(nodes[1]["connections"] == 1);  // carol

  auto inbox = parsed(shell(c.node(0), secret, "inbox " + bob.name));
  CHECK(inbox["inboxDepth"] == 5);
  CHECK(inbox["home"] == "n2");

  auto whois = parsed(shell(c.node(1), secret, "whois " + carol.name));
  CHECK(whois["home"] == "n1");
  CHECK(whois["online"] == true);
  CHECK(whois["connected"] == true);
  CHECK(whois["connectedVia"] == "n2");
  CHECK(whois["inboxDepth"] == 0);

  auto sessions = parsed(shell(c.node(0), secret, "sessions --user " + carol.name));
  REQUIRE(sessions.size() == 2);  // one answer per node
  CHECK(sessions[0].empty());
  REQUIRE(sessions[1].size() == 1);
  CHECK(sessions[1][0]["user"] == carol.name);
  CHECK(sessions[1][0]["address"] == "127.0.0.1");  // kept from the accept

  auto actors = parsed(shell(c.node(0), secret, "actors --node n2"));
  CHECK(actors["node"] == "n2");
  CHECK(actors["byKind"]["session"] == 1);
  CHECK(actors["mailboxes"].contains("store"));
  CHECK(actors["mailboxes"]["listener"] >= 0);  // the one all sessions share

  auto stats = parsed(shell(c.node(0), secret, "stats --node n2"));
  CHECK(stats["messagesIn"] == 5);  // stored at bob's home
  CHECK(stats["inboxItems"] == 5);
  CHECK(stats["storeBatches"]["batches"].get<double>() > 0);

  auto level = parsed(shell(c.node(0), secret, "loglevel debug"));
  CHECK(level.size() == 2);
  CHECK(level[0]["loglevel"] == "debug");

  auto help = shell(c.node(0), secret, "help", false);
  CHECK(help.exit_code == 0);
  CHECK(help.out.find("whois USER") != std::string::npos);

  // kick: carol's connection is closed with its reason.
  auto kicked = parsed(shell(c.node(0), secret, "kick " + carol.name));
  CHECK(kicked["kicked"] == true);
  bool told = false;
  for (;;) {
    auto e = cc->next_event(10s);
    if (!e)
      break;
    REQUIRE(*e);
    if (auto err = std::get_if<client::server_error>(&**e))
      told = err->code == wire::ErrorCode::KICKED;
  }
  CHECK(told);

  // drain: n2 takes no more clients; its users' homes keep working through n1.
  auto drained = parsed(shell(c.node(0), secret, "drain n2"));
  CHECK(drained["draining"] == true);
  client::connection refused(c.node(1).client_options(2));
  bool accepted = false;
  for (int i = 0; i < 50 && !accepted; ++i) {
    // The acceptor closes asynchronously: wait until connecting fails.
    if (!refused.connect())
      break;
    refused.close();
    std::this_thread::sleep_for(50ms);
    accepted = i == 49;
  }
  CHECK_FALSE(accepted);
  auto b = login(c.node(0), bob);
  CHECK(receive_messages(*b, 5).size() == 5);

  // Errors: a non-zero exit and the reason.
  auto unknown = shell(c.node(0), secret, "frobnicate", false);
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.out.find("unknown command") != std::string::npos);
  auto bad_secret_dir = c.node(0).data_dir() + "/../wrong-secret";
  {
    std::ofstream out(bad_secret_dir);
    out << "not-the-cluster-secret-at-all\n";
  }
  auto intruder = shell(c.node(0), bad_secret_dir, "nodes", false);
  CHECK(intruder.exit_code == 2);
}

TEST_CASE("parley-shell: an interactive session has a prompt, completion and history") {
  cluster c{1};
  c.start();
  int master = -1;
  auto pid = ::forkpty(&master, nullptr, nullptr, nullptr);
  REQUIRE(pid >= 0);
  if (pid == 0) {
    auto port = std::to_string(c.node(0).admin_port());
    std::string node = "127.0.0.1:" + port;
    ::setenv("HOME", c.node(0).data_dir().c_str(), 1);  // a fresh history file
    ::execl(PARLEY_SHELL_BIN, PARLEY_SHELL_BIN, "--node", node.c_str(), "--secret-file",
            c.secret_file().c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::string screen;
  auto read_until = [&](const std::string& needle, size_t from) {
    for (int i = 0; i < 100; ++i) {
      if (screen.find(needle, from) != std::string::npos)
        return true;
      pollfd p{master, POLLIN, 0};
      if (::poll(&p, 1, 100) == 1) {
        char buf[4096];
        auto n = ::read(master, buf, sizeof(buf));
        if (n > 0)
          screen.append(buf, static_cast<size_t>(n));
      }
    }
    return false;
  };
  auto type = [&](const std::string& keys) {
    REQUIRE(::write(master, keys.data(), keys.size()) == static_cast<ssize_t>(keys.size()));
  };
  REQUIRE(read_until("parley:n1> ", 0));
  // Tab completes "no" to "nodes" (the terminal only shows the missing "des",
  // so the proof is that the command ran).
  auto mark = screen.size();
  type("no\t\r");
  REQUIRE(read_until("uptimeSeconds", mark));
  REQUIRE(read_until("parley:n1> ", mark));
  // Up arrow brings "nodes" back.
  mark = screen.size();
  type("\x1b[A\r");
  REQUIRE(read_until("uptimeSeconds", mark));
  REQUIRE(read_until("parley:n1> ", mark));
  type("quit\r");
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(master);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("metrics: /metrics serves the Prometheus text and its figures move") {
  cluster c{1};
  c.start();
  auto alice = register_user(c.node(0), "alice");
  auto bob = register_user(c.node(0), "bob");
  auto before = http_get(c.node(0).metrics_port(), "/metrics");
  REQUIRE(before.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(before.find("# TYPE parley_delivery_latency_seconds histogram") != std::string::npos);
  auto a = login(c.node(0), alice);
  auto b = login(c.node(0), bob);
  for (int i = 0; i < 7; ++i)
    REQUIRE(a->send("bob", new_message_id(), "m"));
  auto got = receive_messages(*b, 7);
  std::vector<std::string> ids;
  for (auto& m : got)
    ids.push_back(m.id);
  REQUIRE(b->ack("alice", ids, wire::AckState::DELIVERED));
  await_receipt(*a, ids.back(), wire::ReceiptState::DELIVERED);
  auto after = http_get(c.node(0).metrics_port(), "/metrics");
  CHECK(metric(after, "parley_messages_in_total")
        == metric(before, "parley_messages_in_total") + 7);
  CHECK(metric(after, "parley_messages_out_total")
        == metric(before, "parley_messages_out_total") + 7);
  CHECK(metric(after, "parley_connections") == 2);
  CHECK(metric(after, "parley_logins_total") >= 2);
  CHECK(metric(after, "parley_delivery_latency_seconds_count") >= 7);
  CHECK(after.find("parley_receipts_total{state=\"delivered\"} 7") != std::string::npos);
  CHECK(metric(after, "parley_store_batch_size_count") > 0);
  CHECK(http_get(c.node(0).metrics_port(), "/other").rfind("HTTP/1.1 404", 0) == 0);
}

TEST_CASE("actors: requests for made-up groups leave no group actors running") {
  cluster c{1};
  c.start();
  auto alice = register_user(c.node(0), "alice");
  auto a = login(c.node(0), alice);
  auto running = [&] {
    return parsed(shell(c.node(0), c.secret_file(), "actors"))[0]["running"].get<int>();
  };
  auto before = running();
  // Each made-up id gets an actor of its own, which finds no group and goes
  // (without waiting for the group idle timeout, 60 s by default).
  for (int i = 0; i < 50; ++i) {
    auto q = a->query_group(new_message_id());
    REQUIRE_FALSE(q);
    CHECK(q.error().code == wire::ErrorCode::UNKNOWN_GROUP);
  }
  auto now = running();
  for (int i = 0; i < 100 && now > before; ++i) {
    std::this_thread::sleep_for(100ms);
    now = running();
  }
  CHECK(now <= before);
}

TEST_CASE("store: a session's subscription at its user's home ends with it, and with its member") {
  // bob lives on n2 and connects through n1. n2's store keeps his session's
  // subscription until n2's registry, which monitors the session, tells it
  // the session ended: closed, replaced, or lost with the member it was on.
  cluster c{2};
  c.start();
  auto bob = register_user(c.node(0), c.user_homed_on(1, "bob"));
  auto secret = c.secret_file();
  auto subscriptions_at_n2 = [&] {
    return figure_of(c.node(1), secret, "n2", "store", "subscriptions");
  };

  auto b = login(c.node(0), bob);
  CHECK(settles_at(subscriptions_at_n2, 1) == 1);
  b.reset();  // the client goes
  CHECK(settles_at(subscriptions_at_n2, 0) == 0);

  // The replaced session is on n1, so its end reaches n2 after the new
  // session (on n2) subscribed.
  auto first = login(c.node(0), bob);
  auto second = login(c.node(1), bob);  // replaces the first
  CHECK(settles_at(subscriptions_at_n2, 1) == 1);
  // The first is told it was replaced and closed: its session has ended.
  CHECK(errors_until_closed(*first) == std::vector{wire::ErrorCode::REPLACED});
  std::this_thread::sleep_for(300ms);  // its end reaches the store and changes nothing
  CHECK(subscriptions_at_n2() == 1);
  second.reset();
  CHECK(settles_at(subscriptions_at_n2, 0) == 0);

  auto third = login(c.node(0), bob);
  CHECK(settles_at(subscriptions_at_n2, 1) == 1);
  c.node(0).kill_and_wait(SIGKILL);  // the member the session is on
  CHECK(settles_at(subscriptions_at_n2, 0) == 0);
}

TEST_CASE("presence: a watch ends with the watching session, and with its member") {
  // alice connects through n1 and watches bob, who lives on n2: n2's presence
  // keeps her session among bob's watchers until the session tells it that it
  // ended, or until n1, which holds the session, is lost.
  cluster c{2};
  c.start();
  auto alice = register_user(c.node(0), "alice");
  auto bob = register_user(c.node(0), c.user_homed_on(1, "bob"));
  auto secret = c.secret_file();
  auto watched_at_n2 = [&] {
    return figure_of(c.node(1), secret, "n2", "presence", "watched");
  };

  auto a = login(c.node(0), alice);
  REQUIRE(a->watch({bob.name}));
  CHECK(settles_at(watched_at_n2, 1) == 1);
  a.reset();  // the client goes
  CHECK(settles_at(watched_at_n2, 0) == 0);

  a = login(c.node(0), alice);
  REQUIRE(a->watch({bob.name}));
  CHECK(settles_at(watched_at_n2, 1) == 1);
  c.node(0).kill_and_wait(SIGKILL);  // the member the session is on
  CHECK(settles_at(watched_at_n2, 0) == 0);
}

namespace {

/// Sends one client frame filled by `fill` on the socket `fd`.
template <class F>
void send_frame(int fd, F fill) {
  capnp::MallocMessageBuilder message;
  fill(message.initRoot<wire::ClientFrame>());
  std::vector<char> out;
  append_frame(message, out);
  REQUIRE(::send(fd, out.data(), out.size(), MSG_NOSIGNAL)
          == static_cast<ssize_t>(out.size()));
}

/// Logs in as `user` on a fresh connection to `port`, and closes it right
/// after sending the proof, before the node's answer.
void login_and_leave(uint16_t port, const test_user& user) {
  int fd = connect_loopback(port);
  send_frame(fd, [&](wire::ClientFrame::Builder f) { f.initLogin().setUser(user.name); });
  frame_reader reader{1 << 16};
  std::string nonce;
  char buf[4096];
  while (nonce.empty()) {
    auto n = ::recv(fd, buf, sizeof(buf), 0);
    REQUIRE(n > 0);
    reader.feed(buf, static_cast<size_t>(n));
    while (auto words = reader.next()) {
      capnp::FlatArrayMessageReader frame(*words, reader_options(words->size()));
      auto f = frame.getRoot<wire::ServerFrame>();
      REQUIRE(f.which() == wire::ServerFrame::CHALLENGE);
      nonce = to_string(f.getChallenge().getNonce());
    }
  }
  auto proof = user.id.sign(login_proof_message(nonce));
  send_frame(fd, [&](wire::ClientFrame::Builder f) {
    f.initProve().setSignature(as_data(proof));
  });
  ::close(fd);
}

} // namespace

TEST_CASE("registry: a session that ends while its proof is checked does not stay online") {
  // The session's notice that it ended can reach the registry before the
  // verifier's attach does; the registry must still let it go.
  cluster c{1};
  c.start();
  auto alice = register_user(c.node(0), "alice");
  auto secret = c.secret_file();
  auto users = [&] { return figure_of(c.node(0), secret, "n1", "registry", "users"); };
  auto online = [&] { return figure_of(c.node(0), secret, "n1", "presence", "online"); };
  for (int i = 0; i < 30; ++i)
    login_and_leave(c.node(0).port(), alice);
  CHECK(settles_at(users, 0) == 0);
  CHECK(settles_at(online, 0) == 0);

  auto a = login(c.node(0), alice);  // and a login that stays is seen
  CHECK(settles_at(users, 1) == 1);
  CHECK(settles_at(online, 1) == 1);
}
