// The login deadlines and liveness checks of every session of this node, kept
// on the I/O thread and fired by the hub (the listener) once a beat.
//
// With CAF's clock, each session's delayed_send was a node in two of the clock
// thread's maps (≈ 180 B), setting one woke that thread, and each timeout it
// fired reached the session through the I/O thread's wakeup pipe: at 10,000
// logged-in users checked every 5 s, 2,000 wakeups of each kind a second, and
// three wakeups of the clock thread per login. Here an entry is 16 B in a
// wheel of beats, and the hub runs what is due on its own thread.
//
// Not thread-safe: only brokers may use it, and CAF 0.17 runs all brokers on
// the middleman's one multiplexer thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

namespace parley {

class session_timers {
public:
  using clock = std::chrono::steady_clock;

  enum class kind : uint8_t {
    deadline,  // the login deadline
    tick,      // a liveness check
  };

  /// Fires entries at beats of `beat`, counted from now.
  explicit session_timers(clock::duration beat);

  /// The beat that suits checks every `heartbeat_interval`: a twentieth of it,
  /// between 10 and 100 ms.
  static clock::duration beat_for(clock::duration heartbeat_interval);

  clock::duration beat() const noexcept {
    return beat_;
  }

  /// `what` is due for `session` (its id) at `when`; it fires at the first beat
  /// from then.
  void schedule(uint64_t session, clock::time_point when, kind what);

  /// Calls `fire(session, kind)` for each entry due by `now`, each once, and
  /// forgets it.
  template <class Fire>
  void advance(clock::time_point now, Fire&& fire) {
    auto target = beats_passed(now);
    if (target <= done_)
      return;
    // After a long stall every slot is looked at once, not once per beat missed.
    auto first = target - done_ > slots_.size() ? target - slots_.size() + 1 : done_ + 1;
    for (auto b = first; b <= target; ++b) {
      auto& slot = slots_[b % slots_.size()];
      for (size_t i = 0; i < slot.size();) {
        if (slot[i].due > target) {
          ++i;  // a later round of the wheel
          continue;
        }
        auto due = std::move(slot[i]);
        if (i + 1 < slot.size())
          slot[i] = std::move(slot.back());
        slot.pop_back();
        --size_;
        fire(due.session, due.what);
      }
    }
    done_ = target;
  }

  /// Entries waiting.
  size_t size() const noexcept {
    return size_;
  }

private:
  struct entry {
    uint64_t session;  // a session that has gone is skipped
    uint64_t due : 56;        // beat; 2^56 beats of 1 ms are two million years
    kind what : 8;
  };
  static_assert(sizeof(entry) == 16, "an entry per logged-in user");

  /// The first beat at or after `t`.
  uint64_t beat_at_or_after(clock::time_point t) const noexcept;

  /// The last beat at or before `t`.
  uint64_t beats_passed(clock::time_point t) const noexcept;

  clock::duration beat_;
  clock::time_point start_;
  uint64_t done_ = 0;  // every entry due up to this beat has fired
  size_t size_ = 0;
  std::vector<std::vector<entry>> slots_;
};

} // namespace parley
