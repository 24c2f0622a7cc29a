// What a load-generating process counts and measures, and how the coordinator
// adds up the figures of several such processes.
//
// Counts add up; marks are points in time (CLOCK_MONOTONIC, shared by every
// process of the machine) that merge by their earliest or latest value.
#pragma once

#include "tools/bench/histogram.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace parley::bench {

/// Counts, in the order they are serialized. Add at the end only.
enum class counter : uint8_t {
  registered,       // Registered answers
  logins,           // Welcome answers
  login_failed,     // a login that ended in an error or a closed connection
  sends,            // Send frames written
  sent_ticks,       // sent receipts for this run's sends (each counted once)
  refused,          // sends answered with an error frame
  delivered,        // this run's messages received (each counted once)
  duplicates,       // this run's messages received again
  reordered,        // received ahead of an earlier message of the same sender
  delivered_ticks,  // delivered receipts for this run's sends (each counted once)
  duplicate_ticks,  // sent or delivered receipts received again
  stale,            // messages and receipts of another run, acknowledged and ignored
  errors,           // error frames of any kind
  closed,           // connections the node closed that the bench did not end
  frames_in,
  frames_out,
  bytes_in,
  bytes_out,
  wakeups,          // epoll_wait returns with work
  writes,           // send() calls
  retransmits,      // sends repeated (same id) after a retryable error
  reconnects,       // users logged in again after the node closed their connection
  redelivered,      // messages and ticks received again after such a reconnect
  unsent,           // fixed-rate sends due while their user was reconnecting,
                    // or held a refused send for its next round
  count_
};

constexpr size_t counter_count = static_cast<size_t>(counter::count_);

const char* name_of(counter c) noexcept;

/// Points in time, in the order they are serialized.
enum class mark : uint8_t {
  first_connect,        // earliest
  last_welcome,         // latest
  first_send,           // earliest
  last_sent_tick,       // latest
  last_deliver,         // latest
  last_delivered_tick,  // latest
  count_
};

constexpr size_t mark_count = static_cast<size_t>(mark::count_);

/// Latencies measured, in the order they are serialized.
enum class latency : uint8_t {
  login,           // connect -> welcome
  sent_tick,       // send -> its sent receipt
  deliver,         // send -> the recipient has it (stamp in the payload)
  delivered_tick,  // send -> the sender has its delivered receipt
  lag,             // a fixed-rate send's due time -> when it was written
  count_
};

constexpr size_t latency_count = static_cast<size_t>(latency::count_);

const char* name_of(latency l) noexcept;

/// Error frames by wire error code (codes beyond the table share the last slot).
constexpr size_t error_code_slots = 32;

/// Everything one process measured; a coordinator merges several.
struct report {
  std::array<uint64_t, counter_count> counts{};
  std::array<int64_t, mark_count> marks{};  // 0: not reached
  std::array<histogram, latency_count> latencies{};
  std::array<uint64_t, error_code_slots> errors_by_code{};

  uint64_t& operator[](counter c) noexcept {
    return counts[static_cast<size_t>(c)];
  }
  uint64_t operator[](counter c) const noexcept {
    return counts[static_cast<size_t>(c)];
  }
  histogram& operator[](latency l) noexcept {
    return latencies[static_cast<size_t>(l)];
  }
  const histogram& operator[](latency l) const noexcept {
    return latencies[static_cast<size_t>(l)];
  }

  int64_t at(mark m) const noexcept {
    return marks[static_cast<size_t>(m)];
  }
  /// Keeps the earliest or latest `ns`, as the mark wants.
  void set(mark m, int64_t ns) noexcept;

  void merge(const report& other) noexcept;

  /// One line without newlines: counts, marks, errors and, unless
  /// `counts_only`, the histograms.
  std::string serialize(bool counts_only = false) const;
  bool parse(std::string_view text);
};

} // namespace parley::bench
