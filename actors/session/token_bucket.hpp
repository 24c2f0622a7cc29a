// A token bucket: `rate` tokens a second, holding at most `burst`. Used for
// per-connection send limits and login throttling.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace parley {

class token_bucket {
public:
  using clock = std::chrono::steady_clock;

  token_bucket() = default;

  token_bucket(double rate, double burst, clock::time_point now = clock::now())
    : rate_(rate), burst_(burst), tokens_(burst), last_(now) {
    // nop
  }

  /// Takes `n` tokens if there are that many; otherwise takes none and returns
  /// how long until there will be (a wait of zero means it took them).
  std::chrono::milliseconds take(double n, clock::time_point now = clock::now()) {
    refill(now);
    if (tokens_ >= n) {
      tokens_ -= n;
      return std::chrono::milliseconds{0};
    }
    if (rate_ <= 0)
      return std::chrono::milliseconds{60'000};
    // Settings keep every request within the burst, so waiting is enough.
    auto missing = std::min(n, burst_) - tokens_;
    auto ms = static_cast<int64_t>(missing / rate_ * 1000.0) + 1;
    return std::chrono::milliseconds{ms};
  }

  /// Whether the bucket is full again (its owner may forget it).
  bool full(clock::time_point now = clock::now()) {
    refill(now);
    return tokens_ >= burst_;
  }

private:
  void refill(clock::time_point now) {
    auto elapsed = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
  }

  double rate_ = 0;
  double burst_ = 0;
  double tokens_ = 0;
  clock::time_point last_{};
};

} // namespace parley
