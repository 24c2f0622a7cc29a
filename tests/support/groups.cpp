#include "support/groups.hpp"

#include "actors/store/database.hpp"
#include "tools/client/message_id.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <thread>

namespace parley::test {

std::string id_homed_on(const cluster& c, size_t i) {
  for (int k = 0; k < 10000; ++k) {
    auto id = new_message_id();
    if (c.home_of(to_hex(id)) == i)
      return id;
  }
  FAIL("no id homed on member " << i);
  return {};
}

std::vector<test_user> register_many(const node_process& node, const std::string& prefix,
                                     size_t n, size_t threads) {
  std::vector<test_user> users(n);
  for (size_t i = 0; i < n; ++i)
    users[i] = test_user{prefix + std::to_string(i), identity::generate()};
  std::atomic<size_t> next{0};
  std::mutex lock;
  std::vector<std::string> failures;
  std::vector<std::thread> workers;
  for (size_t t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      // One connection registers many: register needs no login.
      client::connection conn(node.client_options());
      auto ok = conn.connect();
      for (size_t i = next++; i < n && ok; i = next++) {
        ok = conn.register_user(users[i].name, users[i].id);
        if (!ok) {
          std::lock_guard<std::mutex> guard(lock);
          failures.push_back(users[i].name + ": " + ok.error().describe());
        }
      }
    });
  }
  for (auto& w : workers)
    w.join();
  INFO((failures.empty() ? std::string() : failures.front()));
  REQUIRE(failures.empty());
  return users;
}

client::message_info info_when(client::connection& conn, const std::string& group,
                               const std::string& id,
                               const std::function<bool(const client::message_info&)>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    auto info = conn.message_info_of(group, id);
    INFO(why(info));
    REQUIRE(info);
    if (done(*info))
      return *info;
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

size_t count_at_least(const client::message_info& info, wire::ReceiptState state) {
  size_t n = 0;
  for (auto& r : info.recipients)
    if (static_cast<int>(r.state) >= static_cast<int>(state))
      ++n;
  return n;
}

std::map<std::string, size_t> inbox_depths(const node_process& node) {
  std::string error;
  auto db = database::open(node.data_dir(), true, error);
  INFO(error);
  REQUIRE(db);
  std::map<std::string, size_t> depths;
  // Inbox keys: "i" name 0x00 seq(8).
  auto status = db->scan("i", "j", [&](std::string_view key, std::string_view) {
    auto end = key.find('\0');
    depths[std::string(key.substr(1, end - 1))]++;
    return true;
  });
  REQUIRE(status.ok());
  return depths;
}

} // namespace parley::test
