// A user's device for tests, as parley-chat has it: a device store, the
// end-to-end codec and a reconnecting client, stepping until something
// expected arrives.
#pragma once

#include "support/node_process.hpp"
#include "support/users.hpp"
#include "tools/client/device_store.hpp"
#include "tools/client/e2e_codec.hpp"
#include "tools/client/reconnecting_client.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace parley::test {

class e2e_device {
public:
  /// Opens the store at `path` and connects through `server` on the first step.
  e2e_device(const std::string& path, client::options server, const test_user& user);

  /// Steps until logged in.
  void connect();

  /// Steps once; what was reported is kept in seen().
  void step(std::chrono::milliseconds wait = std::chrono::milliseconds(50));

  /// Steps until an update of type T for which `match` holds; returns it. Fails
  /// the test after 30 s.
  template <class T>
  T await(const std::function<bool(const T&)>& match) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    size_t checked = 0;
    for (;;) {
      for (; checked < seen_.size(); ++checked)
        if (auto x = std::get_if<T>(&seen_[checked]); x && match(*x))
          return *x;
      REQUIRE(std::chrono::steady_clock::now() < deadline);
      step();
    }
  }

  /// Steps until the outbox is empty (every message has its sent tick).
  void drain();

  client::reconnecting_client& client() {
    return *client_;
  }
  client::device_store& store() {
    return *store_;
  }
  client::e2e_codec& codec() {
    return *codec_;
  }
  const std::vector<client::update>& seen() const {
    return seen_;
  }

private:
  std::unique_ptr<client::device_store> store_;
  std::unique_ptr<client::e2e_codec> codec_;
  std::unique_ptr<client::reconnecting_client> client_;
  std::vector<client::update> seen_;
};

} // namespace parley::test
