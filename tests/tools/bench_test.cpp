// parley-bench against a real node: its books must balance. These tests check
// behaviour only (nothing lost, nothing twice, counts that add up), never speed.

#include "support/commands.hpp"
#include "support/node_process.hpp"
#include "support/sockets.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <fstream>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/wait.h>
#include <thread>

using namespace parley::test;

namespace {

struct run_result {
  int exit_code = -1;
  std::string out;  // the JSON object
  std::string err;
};

/// Runs parley-bench against `node` with `args` (shell words) and --json.
run_result bench(const node_process& node, const temp_dir& dir, const std::string& args) {
  auto err_path = dir / "bench.err";
  // A run that hangs fails (timeout's exit code 124) instead of stalling the suite.
  auto cmd = "timeout 120 " + std::string(PARLEY_BENCH_BIN) + " --port " + std::to_string(node.port())
             + " --json --quiet " + args + " 2> " + err_path;
  auto ran = run_command(cmd);
  run_result r{ran.exit_code, std::move(ran.out), {}};
  std::ifstream err(err_path);
  r.err.assign(std::istreambuf_iterator<char>(err), {});
  return r;
}

/// The number at `key` in the flat JSON object `section` of `json`; -1 if absent.
long long field(const std::string& json, const std::string& section,
                const std::string& key) {
  auto at = json.find("\"" + section + "\":{");
  if (at == std::string::npos)
    return -1;
  auto end = json.find('}', at);
  auto k = json.find("\"" + key + "\":", at);
  if (k == std::string::npos || k > end)
    return -1;
  return std::strtoll(json.c_str() + k + key.size() + 3, nullptr, 10);
}

/// Every message sent was ticked, delivered once and ticked delivered.
void check_books(const std::string& json, long long expected_sent = -1) {
  auto m = [&](const std::string& key) { return field(json, "messages", key); };
  CHECK(m("sent") > 0);
  if (expected_sent >= 0)
    CHECK(m("sent") == expected_sent);
  CHECK(m("sent_ticks") == m("sent"));
  CHECK(m("refused") == 0);
  CHECK(m("delivered") == m("sent"));
  CHECK(m("delivered_ticks") == m("sent"));
  CHECK(m("lost") == 0);
  CHECK(m("duplicated") == 0);
  CHECK(m("reordered") == 0);
  CHECK(m("duplicate_ticks") == 0);
  CHECK(m("missing_sent_ticks") == 0);
  CHECK(m("missing_delivered_ticks") == 0);
  CHECK(m("stale") == 0);
  CHECK(json.find("\"result\":\"ok\"") != std::string::npos);
}

/// Registers `users` users on `node`, their keys in a file of `dir`: its path.
std::string registered_keys(const node_process& node, const temp_dir& dir, int users) {
  auto keys = dir / "keys";
  REQUIRE(bench(node, dir, "--keys " + keys + " register --users " + std::to_string(users))
            .exit_code == 0);
  return keys;
}

/// The node's count of messages taken in, from its metrics endpoint.
double messages_in(const node_process& node) {
  return metric(http_get(node.metrics_port(), "/metrics"), "parley_messages_in_total");
}

} // namespace

TEST_CASE("parley-bench w2 over three processes: nothing lost, nothing twice") {
  temp_dir dir;
  node_process node{dir.path()};
  node.start();
  // 20 users at 8 connections per process: three load processes.
  auto r = bench(node, dir, "w2 --users 20 --seconds 2 --max-per-process 8");
  INFO(r.out << "\n" << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(field(r.out, "run", "processes") == 3);
  CHECK(field(r.out, "run", "registered") == 20);
  CHECK(field(r.out, "connections", "logins") == 20);
  CHECK(field(r.out, "connections", "login_failed") == 0);
  CHECK(field(r.out, "connections", "closed_by_node") == 0);
  check_books(r.out);
  // The window's figures are part of the whole run's.
  CHECK(field(r.out, "rates", "delivered_per_s") > 0);
}

TEST_CASE("parley-bench w3 ends when every send is answered before its window closes") {
  // At 20 messages a second nothing is outstanding at the window's end: each
  // worker reports the window and its drain at once, in one read of its
  // coordinator, which must take both in order.
  temp_dir dir;
  node_process node{dir.path()};
  node.start();
  auto r = bench(node, dir, "w3 --users 10 --rate 20 --seconds 1");
  INFO(r.out << "\n" << r.err);
  REQUIRE(r.exit_code == 0);
  check_books(r.out);
}

TEST_CASE("parley-bench w4: an offline user's inbox drains whole") {
  temp_dir dir;
  node_process node{dir.path()};
  node.start();
  auto r = bench(node, dir, "w4 --count 500 --senders 3 --window 32");
  INFO(r.out << "\n" << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(field(r.out, "store_in", "stored") == 500);
  CHECK(field(r.out, "drain", "delivered") == 500);
  check_books(r.out, 500);
}

TEST_CASE("parley-bench w1 writes a key file that a rerun uses instead of registering") {
  temp_dir dir;
  node_process node{dir.path()};
  node.start();
  auto keys = dir / "keys";
  auto first = bench(node, dir, "--keys " + keys + " w1 --users 30 --hold 0.2 --settle 0.2");
  INFO(first.out << "\n" << first.err);
  REQUIRE(first.exit_code == 0);
  CHECK(field(first.out, "run", "registered") == 30);
  CHECK(field(first.out, "logins", "logged_in") == 30);
  CHECK(field(first.out, "node", "rss_bytes_per_user") != -1);  // it found the node

  auto again = bench(node, dir, "--keys " + keys + " w2 --users 10 --seconds 1");
  INFO(again.out << "\n" << again.err);
  REQUIRE(again.exit_code == 0);
  CHECK(field(again.out, "run", "registered") == -1);  // nobody registered
  CHECK(field(again.out, "connections", "logins") == 10);
  check_books(again.out);
}

TEST_CASE("parley-bench reports users the node does not know as failed logins") {
  temp_dir dir;
  node_process node{dir.path()};
  node.start();
  auto keys = registered_keys(node, dir, 4);
  temp_dir other_dir;
  node_process other{other_dir.path()};  // a fresh node: nobody is registered
  other.start();
  auto r = bench(other, dir, "--keys " + keys + " w1 --users 4 --hold 0.1 --settle 0.1");
  INFO(r.out << "\n" << r.err);
  CHECK(r.exit_code == 1);
  CHECK(field(r.out, "connections", "login_failed") == 4);
  CHECK(field(r.out, "connections", "error_unknownUser") == 4);
  CHECK(r.out.find("FAILED") != std::string::npos);
}

TEST_CASE("parley-bench sends a refused send again, and every later one, before any new one") {
  // Over its send rate, the node refuses a send (rateLimited) and every later
  // one until that one comes again (unavailable): sent again out of order,
  // later messages would be stored, and delivered, ahead of earlier ones.
  temp_dir dir;
  node_process node{dir.path(), {"--parley.rate-messages=20"}};
  node.start();
  auto r = bench(node, dir, "w2 --users 4 --seconds 2");
  INFO(r.out << "\n" << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(field(r.out, "connections", "error_rateLimited") > 0);
  CHECK(field(r.out, "messages", "retransmits") > 0);
  check_books(r.out);
}

TEST_CASE("parley-bench logs in again when its node is killed -9 and restarted: nothing lost") {
  temp_dir dir;
  node_process node{dir.path()};
  node.start();
  auto keys = registered_keys(node, dir, 10);
  run_result r;
  std::thread run([&] { r = bench(node, dir, "--keys " + keys + " w2 --users 10 --seconds 4"); });
  // Killed once messages flow, then started on the same data and port.
  for (int i = 0; i < 1500 && messages_in(node) < 500; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(messages_in(node) >= 500);
  node.kill_and_wait(SIGKILL);
  node.start();
  run.join();
  INFO(r.out << "\n" << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(field(r.out, "connections", "closed_by_node") == 10);
  CHECK(field(r.out, "connections", "reconnects") == 10);
  // Whatever had a sent tick survived; whatever did not was sent again.
  check_books(r.out);
}
