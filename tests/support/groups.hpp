// Test helpers for groups and calls against real nodes: ids homed where a test
// wants them, users registered in bulk, waiting for a kind of event, and every
// user's inbox depth read from a node's RocksDB at once.
#pragma once

#include "support/cluster.hpp"
#include "support/users.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace parley::test {

/// A fresh 16-byte group (or call) id whose home is member `i`.
std::string id_homed_on(const cluster& c, size_t i);

/// Registers `n` users named prefix0..prefix(n-1) through `node`, `threads` at a
/// time. Fails the test on error.
std::vector<test_user> register_many(const node_process& node, const std::string& prefix,
                                     size_t n, size_t threads = 8);

/// Reads events until one of type T for which `match` holds, acknowledging
/// receipts and notices as they come (a receipt the caller waits for too);
/// returns it. Other events go to `others` if given. Fails the test after 30 s.
template <class T>
T await_event(client::connection& conn, const std::function<bool(const T&)>& match,
              std::vector<client::event>* others = nullptr) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    auto e = conn.next_event(std::chrono::milliseconds(200));
    INFO(why(e));
    REQUIRE(e);
    if (!*e)
      continue;
    if (auto r = std::get_if<client::receipt>(&**e); r && r->seq != 0)
      REQUIRE(conn.ack_receipts({r->seq}));
    if (auto n = std::get_if<client::group_notice>(&**e))
      REQUIRE(conn.ack_receipts({n->seq}));
    if (auto x = std::get_if<T>(&**e); x && match(*x))
      return *x;
    if (others != nullptr)
      others->push_back(std::move(**e));
  }
}

/// Asks for a group message's recipient states until `done` holds for them
/// (receipts travel between nodes on their own time); returns them. Fails the
/// test after 30 s.
client::message_info info_when(client::connection& conn, const std::string& group,
                               const std::string& id,
                               const std::function<bool(const client::message_info&)>& done);

/// How many recipients of `info` are at `state` or beyond.
size_t count_at_least(const client::message_info& info, wire::ReceiptState state);

/// Inbox items per user, read once from the node's RocksDB (read-only).
std::map<std::string, size_t> inbox_depths(const node_process& node);

} // namespace parley::test
