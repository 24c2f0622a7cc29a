// Reconnect delays: exponential growth, a cap, jitter within bounds, reset.

#include "tools/client/backoff.hpp"

#include <catch2/catch.hpp>

#include <set>

using parley::client::backoff;
using std::chrono::milliseconds;

TEST_CASE("backoff doubles its ceiling up to the cap - each delay in [ceiling/2, ceiling]") {
  backoff b{milliseconds{100}, milliseconds{1600}, 42};
  const int64_t ceilings[] = {100, 200, 400, 800, 1600, 1600, 1600};
  for (auto c : ceilings) {
    auto d = b.next().count();
    INFO("ceiling " << c << ", delay " << d);
    CHECK(d >= c / 2);
    CHECK(d <= c);
  }
  CHECK(b.attempts() == 7);
  b.reset();
  CHECK(b.attempts() == 0);
  CHECK(b.next().count() <= 100);
}

TEST_CASE("backoff jitter spreads clients that start together") {
  // Twenty clients cut off by the same node restart.
  std::set<int64_t> third_delays;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    backoff b{milliseconds{250}, milliseconds{10000}, seed};
    b.next();
    b.next();
    third_delays.insert(b.next().count());
  }
  CHECK(third_delays.size() > 10);
  CHECK(*third_delays.begin() >= 500);
  CHECK(*third_delays.rbegin() <= 1000);
}
