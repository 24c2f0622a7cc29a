// The sessions' timer wheel: each entry fires once, at the first beat from its
// time, never early, also past a round of the wheel and after a stall.
// Beats of 10 s and times given, not waited for: nothing depends on how fast
// the test runs. Beats count from the wheel's creation, just before t0, so a
// time 5 s before a multiple of 10 s after t0 falls due at that multiple.

#include "actors/session/session_timers.hpp"

#include <catch2/catch.hpp>

#include <utility>
#include <vector>

using parley::session_timers;
using namespace std::chrono_literals;

namespace {

using fired = std::vector<std::pair<uint64_t, session_timers::kind>>;

// Two sessions' ids.
constexpr uint64_t a = 7;
constexpr uint64_t b = 1ull << 40;

fired advance(session_timers& timers, session_timers::clock::time_point now) {
  fired out;
  timers.advance(now, [&](uint64_t session, session_timers::kind what) {
    out.emplace_back(session, what);
  });
  return out;
}

} // namespace

TEST_CASE("session timers fire each entry once, at the first beat from its time") {
  session_timers timers{10s};
  auto t0 = session_timers::clock::now();
  timers.schedule(a, t0 + 25s, session_timers::kind::tick);
  timers.schedule(b, t0 + 5s, session_timers::kind::deadline);
  CHECK(timers.size() == 2);

  CHECK(advance(timers, t0 + 1s).empty());
  CHECK(advance(timers, t0 + 11s)
        == fired{{b, session_timers::kind::deadline}});
  CHECK(advance(timers, t0 + 21s).empty());
  CHECK(advance(timers, t0 + 31s) == fired{{a, session_timers::kind::tick}});
  CHECK(advance(timers, t0 + 100s).empty());
  CHECK(timers.size() == 0);

  // A time already passed fires at the next beat, not never.
  timers.schedule(a, t0 + 1s, session_timers::kind::tick);
  CHECK(advance(timers, t0 + 101s).empty());
  CHECK(advance(timers, t0 + 111s) == fired{{a, session_timers::kind::tick}});
}

TEST_CASE("session timers wait past a round of the wheel, and a stall fires all that is due") {
  session_timers timers{10s};
  auto t0 = session_timers::clock::now();
  // 1,500 beats: its slot comes round at beat 476, a round early.
  timers.schedule(a, t0 + 1500 * 10s - 5s, session_timers::kind::tick);
  for (int beat = 1; beat < 1500; beat += 7)
    CHECK(advance(timers, t0 + beat * 10s + 1s).empty());
  CHECK(advance(timers, t0 + 1500 * 10s + 1s).size() == 1);

  // Many due at different beats, then one advance more than a round of the
  // wheel (1,024 beats) after all of them: the stall.
  auto t1 = t0 + 1500 * 10s + 1s;
  for (int i = 1; i <= 3000; ++i)
    timers.schedule(a, t1 + i * 1s, session_timers::kind::tick);
  CHECK(timers.size() == 3000);
  CHECK(advance(timers, t1 + 20000s).size() == 3000);
  CHECK(timers.size() == 0);
  CHECK(advance(timers, t1 + 40000s).empty());
}
