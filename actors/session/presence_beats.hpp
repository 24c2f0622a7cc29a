// Heartbeats bound for presence, gathered on the I/O thread and sent once a
// beat of the listener.
//
// A session used to send each forwarded heartbeat to its user's presence actor
// itself: with users beating every 5 s, 3,600 messages a second from the I/O
// thread to a scheduler thread at 18,000 idle users. Presence only keeps
// last-seen times, so it can hear of a user a beat (≤ 100 ms) later: the
// listener sends what its sessions gathered as one message per presence actor
// per beat (idle users' CPU −6%, docs/BENCHMARKS.md, row 33).
//
// Not thread-safe: like session_timers, only brokers use it, and CAF 0.17 runs
// all brokers on the middleman's one multiplexer thread.
#pragma once

#include <caf/actor.hpp>

#include <string>
#include <utility>
#include <vector>

namespace parley {

class presence_beats {
public:
  /// `user` is alive; `presence` (its home's) hears of it at the next flush.
  void add(const caf::actor& presence, const std::string& user);

  /// Calls `send(presence, users)` once for each presence actor that has users
  /// gathered since the last flush, in the order they were added, and forgets
  /// them.
  template <class Send>
  void flush(Send&& send) {
    for (auto& batch : batches_)
      send(batch.presence, std::move(batch.users));
    batches_.clear();  // and the handles: a presence that went away is let go
  }

  /// Users gathered since the last flush.
  size_t size() const noexcept;

private:
  struct batch {
    caf::actor presence;
    std::vector<std::string> users;
  };
  std::vector<batch> batches_;  // one per home with users: a handful at most
};

} // namespace parley
