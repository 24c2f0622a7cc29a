// TURN: a real coturn, configured by deploy/turnserver.conf (REST-API shared
// secret authentication) and started here on loopback, relays data for
// credentials a node hands out, and refuses expired and forged ones. coturn's own turnutils_uclient is the client (-y:
// two clients talking through two relay allocations).

#include "actors/call/turn.hpp"
#include "support/child_process.hpp"
#include "support/cluster.hpp"
#include "support/commands.hpp"
#include "support/node_process.hpp"
#include "support/temp_dir.hpp"
#include "support/users.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

using namespace parley;
using namespace parley::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* secret = "turn-test-secret-0123456789";

/// Runs a command with its standard error joined to its output.
test::command_result run(const std::string& cmd) { return test::run_command(cmd + " 2>&1"); }

/// Whether something accepts TCP connections on 127.0.0.1:port.
bool listening(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

/// coturn on loopback, configured by deploy/turnserver.conf (its placeholders
/// filled in) with what a test needs instead: loopback addresses and peers,
/// free ports, no TLS, its own folder.
class coturn {
public:
  explicit coturn(const temp_dir& dir) : port_(free_port()) {
    // Relay ports above the ephemeral range (32768-60999 here), one block per
    // process so that parallel tests do not meet.
    auto base = 61000 + (static_cast<unsigned>(::getpid()) % 40) * 100;
    std::ifstream in(std::string(PARLEY_SOURCE_DIR) + "/deploy/turnserver.conf");
    REQUIRE(in);
    std::string config;
    const std::vector<std::string> replaced{
      "listening-port", "tls-listening-port", "min-port", "max-port", "denied-peer-ip",
      "log-file",       "pidfile"};
    for (std::string line; std::getline(in, line);) {
      auto key = line.substr(0, line.find('='));
      if (std::find(replaced.begin(), replaced.end(), key) != replaced.end())
        continue;
      for (auto [from, to] : {std::pair<std::string, std::string>{"@TURN_SECRET@", secret},
                              {"@REALM@", "parley.test"}})
        if (auto at = line.find(from); at != std::string::npos)
          line.replace(at, from.size(), to);
      config += line + "\n";
    }
    auto conf = dir / "turnserver.conf";
    {
      std::ofstream out(conf);
      out << config << "listening-ip=127.0.0.1\nlistening-port=" << port_
          << "\nrelay-ip=127.0.0.1\nmin-port=" << base << "\nmax-port=" << base + 99
          << "\nno-tls\nno-dtls\nno-tcp-relay\nallow-loopback-peers\nverbose\n"
             "log-file=stdout\npidfile="
          << (dir / "turnserver.pid") << "\nuserdb=" << (dir / "turndb") << "\n";
    }
    relay_.start({"turnserver", "-c", conf}, dir.path(), dir / "turnserver.log");
    relay_.wait_until([&] { return listening(port_); });
  }

  uint16_t port() const noexcept {
    return port_;
  }

  /// turnutils_uclient through this relay with these credentials.
  test::command_result relay(const std::string& user, const std::string& password) const {
    return run("turnutils_uclient -y -n 4 -l 100 -p " + std::to_string(port_) + " -u '"
               + user + "' -w '" + password + "' 127.0.0.1");
  }

private:
  uint16_t port_;
  child_process relay_;  // SIGKILLed at the end of the test
};

} // namespace

TEST_CASE("TURN: coturn relays for node-issued credentials, refuses expired and forged") {
  temp_dir dir;
  {
    std::ofstream out(dir / "turn-secret");
    out << secret << "\n";
  }
  coturn relay(dir);
  auto uri = "turn:127.0.0.1:" + std::to_string(relay.port());
  node_process node(dir.path(), {"--parley.turn-secret-file=" + (dir / "turn-secret"),
                                 "--parley.turn-uris=[\"" + uri + "\"]",
                                 "--parley.turn-ttl=600s"});
  node.start();
  auto alice = register_user(node, "alice");
  auto a = login(node, alice);
  auto t = a->turn_credentials();
  INFO(why(t));
  REQUIRE(t);
  CHECK(t->username.substr(t->username.find(':')) == ":alice");
  CHECK(t->ttl_seconds == 600);
  CHECK(t->uris == std::vector<std::string>{uri});

  auto ok = relay.relay(t->username, t->password);
  INFO(ok.out);
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.find("Total lost packets 0") != std::string::npos);

  // Valid in form, but its expiry is past: refused.
  turn_config same{secret, {}, std::chrono::seconds(600)};
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  auto expired = make_turn_credentials(same, "alice", now - 1200);
  auto late = relay.relay(expired.username, expired.password);
  INFO(late.out);
  CHECK(late.exit_code != 0);
  CHECK(late.out.find("Cannot complete Allocation") != std::string::npos);

  // Made with another secret: refused.
  turn_config other{"not-the-secret", {}, std::chrono::seconds(600)};
  auto forged = make_turn_credentials(other, "alice", now);
  auto fake = relay.relay(forged.username, forged.password);
  INFO(fake.out);
  CHECK(fake.exit_code != 0);
  CHECK(fake.out.find("Cannot complete Allocation") != std::string::npos);

  // A node without a TURN secret says so.
  temp_dir plain_dir;
  node_process plain(plain_dir.path());
  plain.start();
  auto bob = register_user(plain, "bob");
  auto none = login(plain, bob)->turn_credentials();
  REQUIRE_FALSE(none);
  CHECK(none.error().code == wire::ErrorCode::TURN_UNAVAILABLE);
}
