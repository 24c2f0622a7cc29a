// Delays between reconnect attempts: exponential and capped, with jitter, so that
// the clients one node restart cut off together do not all come back at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace parley::client {

/// Attempt n (from 0) waits a random time in [c/2, c], where c = min(max,
/// initial * 2^n): half of it grows for sure, half spreads the herd.
class backoff {
public:
  /// `seed` 0 picks a random seed.
  backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max,
          uint64_t seed = 0);

  /// The delay before the next attempt; raises the ceiling for the one after.
  std::chrono::milliseconds next();

  /// After a success: the next delay is short again.
  void reset() noexcept {
    attempts_ = 0;
  }

  unsigned attempts() const noexcept {
    return attempts_;
  }

private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  unsigned attempts_ = 0;
  std::mt19937_64 rng_;
};

} // namespace parley::client
