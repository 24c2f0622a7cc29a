// Test helpers that act as users of a real node through the client library.
#pragma once

#include "support/node_process.hpp"
#include "tools/client/client.hpp"
#include "tools/client/keystore.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace parley::test {

struct test_user {
  std::string name;
  identity id;
};

/// Why an outcome failed, or "" (for INFO).
template <class T>
std::string why(const client::outcome<T>& x) {
  return x ? std::string() : x.error().describe();
}

/// Registers `name` with a fresh identity; fails the test on error.
test_user register_user(const node_process& node, const std::string& name);

/// A connection logged in as `user`; fails the test on error.
std::unique_ptr<client::connection> login(const node_process& node,
                                          const test_user& user);

/// Reads events until `n` messages arrived; acknowledges nothing. Every other
/// event goes to `others` if given. Fails the test on timeout.
std::vector<client::message> receive_messages(client::connection& conn, size_t n,
                                              std::vector<client::event>* others = nullptr,
                                              std::chrono::seconds timeout =
                                                std::chrono::seconds(30));

/// Reads until a receipt for `id` in `state` arrives, acknowledging receipts;
/// returns it. Fails the test on timeout.
client::receipt await_receipt(client::connection& conn, const std::string& id,
                              wire::ReceiptState state);

/// Sends every payload to `to`, at most `window` unanswered at a time, and waits
/// for every sent tick. Returns the ids in sending order. Other events that
/// arrive meanwhile are dropped.
std::vector<std::string> send_all(client::connection& conn, const std::string& to,
                                  const std::vector<std::string>& payloads,
                                  size_t window = 512);

/// Sends one message to `sink` and waits for its sent tick. Since the store
/// pushes before it answers, every item it had made deliverable to this
/// connection arrived before; they are returned.
std::vector<client::event> barrier(client::connection& conn, const std::string& sink);

/// Reads until the node closes the connection; returns the error codes it sent.
/// Fails the test if the node keeps it open.
std::vector<wire::ErrorCode> errors_until_closed(client::connection& conn);

/// Items in `user`'s inbox, read from the node's own RocksDB (read-only).
size_t inbox_depth(const node_process& node, const std::string& user);

/// "msg-<i>", padded so that order shows in sorting too.
std::string numbered(size_t i);

} // namespace parley::test
