#include "actors/session/session_timers.hpp"

#include <algorithm>

namespace parley {

namespace {

// 1,024 beats of at most 100 ms: longer delays wait in their slot for rounds.
constexpr size_t slot_count = 1024;

} // namespace

session_timers::session_timers(clock::duration beat)
  : beat_(std::max<clock::duration>(beat, std::chrono::milliseconds(1))),
    start_(clock::now()),
    slots_(slot_count) {
  // nop
}

session_timers::clock::duration
session_timers::beat_for(clock::duration heartbeat_interval) {
  return std::clamp<clock::duration>(heartbeat_interval / 20,
                                     std::chrono::milliseconds(10),
                                     std::chrono::milliseconds(100));
}

void session_timers::schedule(uint64_t session, clock::time_point when, kind what) {
  // Never in a beat already done: that slot is not looked at again this round.
  auto due = std::max(beat_at_or_after(when), done_ + 1);
  slots_[due % slots_.size()].push_back(entry{session, due, what});
  ++size_;
}

uint64_t session_timers::beat_at_or_after(clock::time_point t) const noexcept {
  if (t <= start_)
    return 0;
  return static_cast<uint64_t>((t - start_ + beat_ - clock::duration(1)) / beat_);
}

uint64_t session_timers::beats_passed(clock::time_point t) const noexcept {
  if (t <= start_)
    return 0;
  return static_cast<uint64_t>((t - start_) / beat_);
}

} // namespace parley
