#include "tools/client/backoff.hpp"

#include <algorithm>

namespace parley::client {

backoff::backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max,
                 uint64_t seed)
  : initial_(std::max(initial, std::chrono::milliseconds{1})),
    max_(std::max(max, initial_)),
    rng_(seed != 0 ? seed : std::random_device{}()) {
  // nop
}

std::chrono::milliseconds backoff::next() {
  // Doubling stops at the cap, so the shift never overflows.
  auto ceiling = initial_;
  for (unsigned i = 0; i < attempts_ && ceiling < max_; ++i)
    ceiling *= 2;
  ceiling = std::min(ceiling, max_);
  ++attempts_;
  std::uniform_int_distribution<int64_t> spread(ceiling.count() / 2, ceiling.count());
  return std::chrono::milliseconds{spread(rng_)};
}

} // namespace parley::client
