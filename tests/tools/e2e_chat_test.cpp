// End-to-end encryption as users get it from parley-chat: the node and the
// wire carry only ciphertext, a tampered message is refused by its recipient,
// and a contact whose identity key changes is warned about.

#include "support/commands.hpp"
#include "support/node_process.hpp"
#include "support/temp_dir.hpp"
#include "support/users.hpp"
#include "chaos/tcp_proxy.hpp"
#include "tools/client/message_id.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>

using namespace parley;
using namespace parley::test;
using namespace std::chrono_literals;

namespace {

command_result chat(uint16_t port, const std::string& home, const std::string& args,
                const std::string& input = "") {
  auto in_path = home + ".stdin";
  {
    std::ofstream f(in_path);
    f << input;
  }
  auto cmd = std::string(PARLEY_CHAT_BIN) + " --server 127.0.0.1:" + std::to_string(port)
             + " --home " + home + " " + args + " < " + in_path + " 2>&1";
  return run_command(cmd);
}

} // namespace

TEST_CASE("e2e: the node and the wire carry only ciphertext") {
  temp_dir dir;
  node_process node{dir.path()};
  node.start();
  chaos::tcp_proxy proxy{{{"127.0.0.1", node.port()}}, 1};
  proxy.record();
  std::string error;
  REQUIRE(proxy.start(error));
  auto home = dir / "home";
  REQUIRE(chat(proxy.port(), home, "--user alice register").exit_code == 0);
  REQUIRE(chat(proxy.port(), home, "--user bob register").exit_code == 0);
  const std::string secrets[] = {"plaintext-marker-ZEBRA-17", "plaintext-marker-OTTER-42",
                                 "plaintext-marker-HERON-99"};
  REQUIRE(chat(proxy.port(), home, "--user alice send bob",
               secrets[0] + "\n" + secrets[1] + "\n")
            .exit_code
          == 0);
  auto got = chat(proxy.port(), home, "--user bob --json listen --count 2 --timeout 20");
  INFO(got.out);
  REQUIRE(got.exit_code == 0);
  // The recipient reads them: they did cross, just not readably.
  CHECK(got.out.find(secrets[0]) != std::string::npos);
  CHECK(got.out.find(secrets[1]) != std::string::npos);
  REQUIRE(chat(proxy.port(), home, "--user bob send alice " + secrets[2]).exit_code == 0);
  auto back = chat(proxy.port(), home, "--user alice --json listen --count 1 --timeout 20");
  CHECK(back.out.find(secrets[2]) != std::string::npos);

  auto wire = proxy.recorded();
  CHECK(wire.size() > 1000);  // the conversation went through the proxy
  REQUIRE(node.stop() == 0);  // the store's files complete: WAL, tables, logs
  for (auto& secret : secrets) {
    INFO(secret);
    CHECK(wire.find(secret) == std::string::npos);
    CHECK_FALSE(any_file_contains(node.data_dir(), secret));
  }
}

TEST_CASE("e2e: a tampered ciphertext is refused by its recipient") {
  temp_dir dir;
  node_process node{dir.path()};
  node.start();
  auto home = dir / "home";
  REQUIRE(chat(node.port(), home, "--user alice register").exit_code == 0);
  REQUIRE(chat(node.port(), home, "--user bob register").exit_code == 0);
  REQUIRE(chat(node.port(), home, "--user alice send bob genuine").exit_code == 0);
  // Peek at the sealed payload as the node delivers it, without acknowledging.
  std::string sealed;
  {
    keystore keys{home};
    auto bob_id = keys.load("bob");
    REQUIRE(bob_id);
    auto b = login(node, test_user{"bob", *bob_id});
    sealed = receive_messages(*b, 1)[0].payload;
  }
  REQUIRE(sealed.size() > 40);
  // "alice" (her key, the raw library) sends a copy with one byte flipped.
  keystore keys{home};
  auto alice_id = keys.load("alice");
  REQUIRE(alice_id);
  auto a = login(node, test_user{"alice", *alice_id});
  auto tampered = sealed;
  tampered[tampered.size() - 5] ^= 0x01;
  REQUIRE(a->send("bob", new_message_id(), tampered));
  auto got = chat(node.port(), home, "--user bob --json listen --count 2 --timeout 20");
  INFO(got.out);
  CHECK(got.out.find("\"text\":\"genuine\"") != std::string::npos);
  CHECK(got.out.find("could not decrypt") != std::string::npos);
}

TEST_CASE("e2e: a contact whose identity key changes is warned about") {
  temp_dir dir;
  auto home = dir / "home";
  {
    node_process first{dir / "first"};
    std::filesystem::create_directories(dir / "first");
    first.start();
    REQUIRE(chat(first.port(), home, "--user alice register").exit_code == 0);
    REQUIRE(chat(first.port(), home, "--user bob register").exit_code == 0);
    REQUIRE(chat(first.port(), home, "--user alice send bob hello").exit_code == 0);
    REQUIRE(chat(first.port(), home, "--user bob listen --count 1 --timeout 20").exit_code
            == 0);
  }
  // A server that lost its data (or lies): "bob" now has another key, made on
  // another device; alice's device still remembers the old one.
  std::filesystem::create_directories(dir / "second");
  node_process second{dir / "second"};
  second.start();
  auto other = dir / "other-device";
  REQUIRE(chat(second.port(), home, "--user alice register").exit_code == 0);
  REQUIRE(chat(second.port(), other, "--user bob register").exit_code == 0);
  auto before = chat(second.port(), home, "--user alice safety-number bob");
  // The new "bob" writes first: alice's device sees another identity key.
  REQUIRE(chat(second.port(), other, "--user bob send alice hi").exit_code == 0);
  auto got = chat(second.port(), home, "--user alice --json listen --count 1 --timeout 20");
  INFO(got.out);
  CHECK(got.exit_code == 0);
  CHECK(got.out.find("\"code\":\"identityChanged\"") != std::string::npos);
  CHECK(got.out.find("\"text\":\"hi\"") != std::string::npos);
  auto after = chat(second.port(), home, "--user alice safety-number bob");
  CHECK(before.out != after.out);
}
