// deploy/local-cluster.sh and HAProxy in front of a cluster: one command starts
// it, clients reach any user through HAProxy, a dead node is taken out of the
// rotation, one command stops it.

#include "support/cluster.hpp"
#include "support/commands.hpp"
#include "support/temp_dir.hpp"
#include "support/users.hpp"
#include "actors/cluster/rendezvous.hpp"
#include "tools/client/message_id.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <thread>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace parley;
using namespace parley::test;
using namespace std::chrono_literals;

namespace {


/// Connects through HAProxy and logs in; nothing if the node refuses.
std::unique_ptr<client::connection> try_login(uint16_t port, const test_user& user) {
  client::options opts;
  opts.port = port;
  opts.timeout = 10s;
  auto conn = std::make_unique<client::connection>(opts);
  if (!conn->connect() || !conn->login(user.name, user.id))
    return nullptr;
  return conn;
}

} // namespace

TEST_CASE("local-cluster.sh starts nodes behind HAProxy that route around a dead node") {
  temp_dir dir;
  auto base = free_base({0, 1, 2, 50, 101, 102, 201, 202, 301, 302});
  std::string script = std::string(PARLEY_SOURCE_DIR) + "/deploy/local-cluster.sh";
  std::string env = std::string("PARLEY_NODE=") + PARLEY_NODE_BIN + " ";
  auto where = " --base-port " + std::to_string(base) + " --dir " + dir.path() + "/c";
  auto started = run_command(env + script + " start 2" + where + " 2>&1");
  INFO(started.out);
  REQUIRE(started.exit_code == 0);
  struct stopper {
    std::string cmd;
    ~stopper() {
      run_command(cmd);
    }
  } stop{env + script + " stop" + where + " > /dev/null 2>&1"};

  // Users homed on each node, registered and talking through HAProxy.
  std::vector<std::string> members{"n1", "n2"};
  auto homed_on = [&](const std::string& node, const std::string& prefix) {
    for (int k = 0;; ++k)
      if (rendezvous_home(members, prefix + std::to_string(k)) == node)
        return prefix + std::to_string(k);
  };
  auto register_via = [&](const std::string& name) {
    client::options opts;
    opts.port = base;
    client::connection conn(opts);
    REQUIRE(conn.connect());
    test_user user{name, identity::generate()};
    REQUIRE(conn.register_user(name, user.id));
    return user;
  };
  auto alice = register_via(homed_on("n1", "alice"));
  auto bob = register_via(homed_on("n2", "bob"));
  auto carol = register_via(homed_on("n2", "carol"));
  auto a = try_login(base, alice);
  auto b = try_login(base, bob);
  REQUIRE(a);
  REQUIRE(b);
  auto id = new_message_id();
  REQUIRE(a->send(bob.name, id, "via haproxy"));
  CHECK(receive_messages(*b, 1)[0].id == id);

  // leastconn: the two connections went to different nodes.
  auto log1 = [&] { std::ifstream in(dir.path() + "/c/n1/node.log"); return std::string(std::istreambuf_iterator<char>(in), {}); };
  auto log2 = [&] { std::ifstream in(dir.path() + "/c/n2/node.log"); return std::string(std::istreambuf_iterator<char>(in), {}); };
  // Info lines reach a node's log in batches, up to 50 ms late (actors/log.hpp).
  auto shows = [](auto log, const char* text) {
    for (int i = 0; i < 250; ++i) {
      if (log().find(text) != std::string::npos)
        return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  };
  CHECK(shows(log1, "logged in"));
  CHECK(shows(log2, "logged in"));

  // n1 dies: HAProxy takes it out; n2's users keep logging in through it.
  a.reset();
  b.reset();
  std::ifstream pid_in(dir.path() + "/c/n1/pid");
  pid_t pid = 0;
  pid_in >> pid;
  REQUIRE(pid > 0);
  ::kill(pid, SIGKILL);
  int ok = 0;
  for (int i = 0; i < 20; ++i) {  // each login is a new connection
    if (try_login(base, i % 2 ? bob : carol))
      ++ok;
    else
      std::this_thread::sleep_for(300ms);  // until the health check marks n1 down
  }
  CHECK(ok >= 10);
  // And the last logins all succeed: n1 is out of the rotation.
  for (int i = 0; i < 4; ++i)
    CHECK(try_login(base, i % 2 ? bob : carol));
}

TEST_CASE("clients reach the cluster over TLS at HAProxy and check its certificate") {
  temp_dir dir;
  auto base = free_base({0, 1, 2, 50, 101, 102, 201, 202, 301, 302});
  std::string script = std::string(PARLEY_SOURCE_DIR) + "/deploy/local-cluster.sh";
  std::string env = std::string("PARLEY_NODE=") + PARLEY_NODE_BIN + " ";
  auto where = " --base-port " + std::to_string(base) + " --dir " + dir.path() + "/c";
  auto started = run_command(env + script + " start 1" + where + " --tls 2>&1");
  INFO(started.out);
  REQUIRE(started.exit_code == 0);
  struct stopper {
    std::string cmd;
    ~stopper() {
      run_command(cmd);
    }
  } stop{env + script + " stop" + where + " > /dev/null 2>&1"};
  client::options opts;
  opts.port = static_cast<uint16_t>(base + 50);
  opts.timeout = 10s;
  opts.tls = true;
  opts.ca_file = dir.path() + "/c/tls.pem";
  test_user alice{"alice", identity::generate()};
  {
    client::connection conn(opts);
    auto ok = conn.connect();
    INFO(why(ok));
    REQUIRE(ok);
    REQUIRE(conn.register_user("alice", alice.id));
    REQUIRE(conn.login("alice", alice.id));
    auto seen = conn.last_seen("alice");
    REQUIRE(seen);
    CHECK(seen->online);
  }
  // A certificate the client does not trust: refused before any frame.
  REQUIRE(run_command(std::string(PARLEY_SOURCE_DIR) + "/deploy/make-test-cert.sh " + dir.path()
              + "/other.pem").exit_code
          == 0);
  opts.ca_file = dir.path() + "/other.pem";
  client::connection conn(opts);
  auto refused = conn.connect();
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("certificate") != std::string::npos);
}
