// parley-chat as a user runs it: real processes, JSON output.

#include "support/commands.hpp"
#include "support/node_process.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdio>
#include <sys/wait.h>

using namespace parley::test;

namespace {

/// Runs parley-chat with `args` (shell words), `input` on its stdin.
command_result chat(const node_process& node, const temp_dir& dir, const std::string& args,
                const std::string& input = "") {
  auto in_path = dir / "stdin.txt";
  {
    FILE* f = std::fopen(in_path.c_str(), "w");
    std::fwrite(input.data(), 1, input.size(), f);
    std::fclose(f);
  }
  auto cmd = std::string(PARLEY_CHAT_BIN) + " --server 127.0.0.1:"
             + std::to_string(node.port()) + " --home " + dir.path() + "/home " + args
             + " < " + in_path + " 2>&1";
  return run_command(cmd);
}

size_t count(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + 1))
    ++n;
  return n;
}

} // namespace

TEST_CASE("parley-chat: register - send while offline - listen - ticks - last seen") {
  temp_dir dir;
  node_process node{dir.path()};
  node.start();
  REQUIRE(chat(node, dir, "--user alice register").exit_code == 0);
  REQUIRE(chat(node, dir, "--user bob register").exit_code == 0);

  auto sent = chat(node, dir, "--user alice --json send bob", "first\nsecond\nthird\n");
  INFO(sent.out);
  REQUIRE(sent.exit_code == 0);
  CHECK(count(sent.out, "\"state\":\"sent\"") == 3);

  auto seen = chat(node, dir, "--user alice --json last-seen bob");
  INFO(seen.out);
  CHECK(seen.exit_code == 0);
  CHECK(seen.out.find("\"online\":false") != std::string::npos);

  auto got = chat(node, dir, "--user bob --json listen --count 3 --timeout 20 --read");
  INFO(got.out);
  REQUIRE(got.exit_code == 0);
  auto first = got.out.find("\"text\":\"first\"");
  auto second = got.out.find("\"text\":\"second\"");
  auto third = got.out.find("\"text\":\"third\"");
  REQUIRE(first != std::string::npos);
  CHECK(first < second);
  CHECK(second < third);
  CHECK(count(got.out, "\"from\":\"alice\"") == 3);

  // alice was offline for all of it: her receipts waited.
  auto ticks = chat(node, dir, "--user alice --json listen --timeout 2");
  INFO(ticks.out);
  CHECK(ticks.exit_code == 0);
  CHECK(count(ticks.out, "\"state\":\"delivered\"") == 3);
  CHECK(count(ticks.out, "\"state\":\"read\"") == 3);
  // and were acknowledged: they do not come again
  auto again = chat(node, dir, "--user alice --json listen --timeout 1");
  CHECK(count(again.out, "\"type\":\"receipt\"") == 0);

  auto bob_seen = chat(node, dir, "--user alice last-seen bob");
  CHECK(bob_seen.out.find("bob was last seen") != std::string::npos);
}

TEST_CASE("parley-chat exits non-zero with the error code on failures") {
  temp_dir dir;
  node_process node{dir.path()};
  node.start();
  REQUIRE(chat(node, dir, "--user alice register").exit_code == 0);

  auto unknown = chat(node, dir, "--user alice --json send nobody hi");
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.out.find("\"code\":\"unknownUser\"") != std::string::npos);

  // Another device (another home) cannot take the name.
  temp_dir other;
  auto taken = chat(node, other, "--user alice --json register");
  CHECK(taken.exit_code == 1);
  CHECK(taken.out.find("\"code\":\"nameTaken\"") != std::string::npos);

  auto no_key = chat(node, dir, "--user carol send alice hi");
  CHECK(no_key.exit_code == 1);
  CHECK(no_key.out.find("run 'register' first") != std::string::npos);

  auto bad_usage = chat(node, dir, "--user 'Bad Name' register");
  CHECK(bad_usage.exit_code == 2);
}

TEST_CASE("parley-chat: send with no node queues (exit 3) - outbox - drained in order later") {
  temp_dir dir;
  node_process node{dir.path()};
  node.start();
  REQUIRE(chat(node, dir, "--user alice register").exit_code == 0);
  REQUIRE(chat(node, dir, "--user bob register").exit_code == 0);
  node.kill_and_wait(SIGKILL);

  auto first = chat(node, dir, "--user alice --json send bob first");
  INFO(first.out);
  CHECK(first.exit_code == 3);
  CHECK(count(first.out, "\"type\":\"queued\"") == 1);
  CHECK(first.out.find("\"text\":\"first\"") != std::string::npos);
  auto second = chat(node, dir, "--user alice send bob second");
  INFO(second.out);
  CHECK(second.exit_code == 3);
  CHECK(second.out.find("queued for bob: second") != std::string::npos);

  auto waiting = chat(node, dir, "--user alice --json outbox");
  INFO(waiting.out);
  CHECK(waiting.exit_code == 0);
  CHECK(count(waiting.out, "\"type\":\"queued\"") == 2);
  CHECK(waiting.out.find("\"text\":\"first\"") < waiting.out.find("\"text\":\"second\""));

  // The next send drains the older ones first.
  node.start();
  auto third = chat(node, dir, "--user alice --json send bob third");
  INFO(third.out);
  CHECK(third.exit_code == 0);
  CHECK(count(third.out, "\"state\":\"sent\"") == 3);
  auto empty = chat(node, dir, "--user alice --json outbox");
  CHECK(count(empty.out, "\"type\":\"queued\"") == 0);
  CHECK(empty.out.find("the outbox is empty") != std::string::npos);

  auto got = chat(node, dir, "--user bob --json listen --count 3 --timeout 20");
  INFO(got.out);
  REQUIRE(got.exit_code == 0);
  auto a = got.out.find("\"text\":\"first\"");
  auto b = got.out.find("\"text\":\"second\"");
  auto c = got.out.find("\"text\":\"third\"");
  REQUIRE(a != std::string::npos);
  CHECK(a < b);
  CHECK(b < c);
  CHECK(count(got.out, "\"type\":\"message\"") == 3);

  auto ticks = chat(node, dir, "--user alice --json listen --timeout 2");
  INFO(ticks.out);
  CHECK(count(ticks.out, "\"state\":\"delivered\"") == 3);
  auto history = chat(node, dir, "--user alice --json history bob");
  INFO(history.out);
  CHECK(history.exit_code == 0);
  CHECK(count(history.out, "\"direction\":\"out\"") == 3);
  CHECK(count(history.out, "\"state\":\"delivered\"") == 3);
  auto theirs = chat(node, dir, "--user bob history alice");
  INFO(theirs.out);
  CHECK(theirs.out.find("alice: first  (received)") != std::string::npos);
}

TEST_CASE("parley-chat: a message refused for good fails the send and leaves the outbox") {
  temp_dir dir;
  node_process node{dir.path()};
  node.start();
  REQUIRE(chat(node, dir, "--user alice register").exit_code == 0);
  auto refused = chat(node, dir, "--user alice --json send nobody hi");
  CHECK(refused.exit_code == 1);
  auto waiting = chat(node, dir, "--user alice --json outbox");
  CHECK(count(waiting.out, "\"type\":\"queued\"") == 0);
  auto history = chat(node, dir, "--user alice --json history nobody");
  INFO(history.out);
  CHECK(history.out.find("\"state\":\"failed\"") != std::string::npos);
}
