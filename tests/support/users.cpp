#include "support/users.hpp"

#include "actors/store/database.hpp"
#include "actors/store/keys.hpp"
#include "tools/client/message_id.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <unordered_set>

namespace parley::test {

test_user register_user(const node_process& node, const std::string& name) {
  test_user user{name, identity::generate()};
  client::connection conn(node.client_options());
  auto ok = conn.connect();
  REQUIRE(ok);
  auto registered = conn.register_user(name, user.id);
  INFO(why(registered));
  REQUIRE(registered);
  return user;
}

std::unique_ptr<client::connection> login(const node_process& node,
                                          const test_user& user) {
  auto conn = std::make_unique<client::connection>(node.client_options());
  auto ok = conn->connect();
  INFO(why(ok));
  REQUIRE(ok);
  auto welcome = conn->login(user.name, user.id);
  INFO(why(welcome));
  REQUIRE(welcome);
  return conn;
}

std::vector<client::message> receive_messages(client::connection& conn, size_t n,
                                              std::vector<client::event>* others,
                                              std::chrono::seconds timeout) {
  std::vector<client::message> out;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < n) {
    INFO("received " << out.size() << " of " << n << " messages");
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    auto e = conn.next_event(std::chrono::milliseconds(500));
    INFO(why(e));
    REQUIRE(e);
    if (!*e)
      continue;
    if (auto m = std::get_if<client::message>(&**e))
      out.push_back(std::move(*m));
    else if (others != nullptr)
      others->push_back(std::move(**e));
  }
  return out;
}

client::receipt await_receipt(client::connection& conn, const std::string& id,
                              wire::ReceiptState state) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    INFO("waiting for receipt " << to_hex(id));
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    auto e = conn.next_event(std::chrono::milliseconds(500));
    INFO(why(e));
    REQUIRE(e);
    if (!*e)
      continue;
    if (auto r = std::get_if<client::receipt>(&**e)) {
      if (r->seq != 0)
        conn.ack_receipts({r->seq});
      if (r->id == id && r->state == state)
        return *r;
    }
  }
}

std::vector<std::string> send_all(client::connection& conn, const std::string& to,
                                  const std::vector<std::string>& payloads,
                                  size_t window) {
  std::vector<std::string> ids;
  ids.reserve(payloads.size());
  std::unordered_set<std::string> unanswered;
  size_t next = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (next < payloads.size() || !unanswered.empty()) {
    while (next < payloads.size() && unanswered.size() < window) {
      auto id = new_message_id();
      auto ok = conn.post(to, id, payloads[next++]);
      REQUIRE(ok);
      ids.push_back(id);
      unanswered.insert(id);
    }
    INFO(unanswered.size() << " sends unanswered");
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    auto e = conn.next_event(std::chrono::milliseconds(500));
    INFO(why(e));
    REQUIRE(e);
    if (!*e)
      continue;
    if (auto r = std::get_if<client::receipt>(&**e);
        r && r->state == wire::ReceiptState::SENT)
      unanswered.erase(r->id);
    if (auto err = std::get_if<client::server_error>(&**e))
      FAIL("send failed: " << err->message);
  }
  return ids;
}

std::vector<wire::ErrorCode> errors_until_closed(client::connection& conn) {
  std::vector<wire::ErrorCode> codes;
  for (int i = 0; i < 100; ++i) {
    auto e = conn.next_event(std::chrono::seconds(15));
    if (!e)
      return codes;  // closed
    REQUIRE(*e);     // not a timeout: the node must close
    if (auto err = std::get_if<client::server_error>(&**e))
      codes.push_back(err->code);
  }
  FAIL("the node kept the connection open");
  return codes;
}

std::vector<client::event> barrier(client::connection& conn, const std::string& sink) {
  auto tick = conn.send(sink, new_message_id(), "barrier");
  INFO(why(tick));
  REQUIRE(tick);
  std::vector<client::event> before;
  while (conn.has_queued()) {
    auto e = conn.next_event(std::chrono::milliseconds(0));
    REQUIRE(e);
    if (*e)
      before.push_back(std::move(**e));
  }
  return before;
}

size_t inbox_depth(const node_process& node, const std::string& user) {
  std::string error;
  auto db = database::open(node.data_dir(), true, error);
  INFO(error);
  REQUIRE(db);
  size_t n = 0;
  auto status = db->scan(keys::inbox_begin(user), keys::inbox_end(user),
                         [&n](std::string_view, std::string_view) {
                           ++n;
                           return true;
                         });
  REQUIRE(status.ok());
  return n;
}

std::string numbered(size_t i) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "msg-%07zu", i);
  return buf;
}

} // namespace parley::test
