#include "support/e2e_device.hpp"

namespace parley::test {

e2e_device::e2e_device(const std::string& path, client::options server,
                       const test_user& user) {
  auto s = client::device_store::open(path);
  INFO((s ? std::string() : s.error().describe()));
  REQUIRE(s);
  store_ = std::move(*s);
  auto c = client::e2e_codec::make(*store_, user.id, user.name);
  INFO((c ? std::string() : c.error().describe()));
  REQUIRE(c);
  codec_ = std::move(*c);
  client::reconnect_options opts;
  opts.initial_backoff = std::chrono::milliseconds(50);
  opts.max_backoff = std::chrono::milliseconds(500);
  opts.codec = codec_.get();
  client_ = std::make_unique<client::reconnecting_client>(*store_, std::move(server),
                                                          user.name, user.id, opts);
}

void e2e_device::connect() {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!client_->connected()) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    step();
  }
}

void e2e_device::step(std::chrono::milliseconds wait) {
  auto u = client_->step(wait);
  INFO((u ? std::string() : u.error().describe()));
  REQUIRE(u);
  seen_.insert(seen_.end(), std::make_move_iterator(u->begin()),
               std::make_move_iterator(u->end()));
}

void e2e_device::drain() {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (;;) {
    auto n = store_->outbox_size();
    REQUIRE(n);
    if (*n == 0)
      return;
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    step();
  }
}

} // namespace parley::test
