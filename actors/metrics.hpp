// A node's figures for Prometheus: counters, gauges and histograms that actors
// bump as they work, rendered in the text exposition format by render().
//
// They are relaxed atomics written by many actors and read only by the metrics
// endpoint and the admin actor: a tally board, not shared state any actor
// decides on, so it needs no messages (and costs a few nanoseconds a bump).
#pragma once

#include "schema/protocol.capnp.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace parley {

/// A histogram over fixed upper bounds (seconds), Prometheus-style cumulative
/// when rendered.
class histogram {
public:
  static constexpr std::array<double, 12> bounds = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1, 10, 60};

  void observe(double value) noexcept;

  /// Lines of the exposition format for metric `name`.
  void render(std::string& out, const std::string& name, const std::string& help) const;

private:
  std::array<std::atomic<uint64_t>, bounds.size() + 1> buckets_{};  // last: +Inf
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};
};

/// A histogram of plain counts (batch sizes).
class size_histogram {
public:
  static constexpr std::array<uint64_t, 10> bounds = {1, 2, 4, 8, 16, 32, 64, 128, 256, 1024};

  void observe(uint64_t value) noexcept;

  void render(std::string& out, const std::string& name, const std::string& help) const;

private:
  std::array<std::atomic<uint64_t>, bounds.size() + 1> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_{0};
};

/// Every figure of one node.
struct node_metrics {
  static constexpr size_t error_codes = 64;

  std::atomic<int64_t> connections{0};
  std::atomic<uint64_t> logins{0};
  std::atomic<uint64_t> messages_in{0};    // sends the store took (sent ticks)
  std::atomic<uint64_t> messages_out{0};   // messages written to recipients
  std::atomic<uint64_t> receipts_delivered{0};
  std::atomic<uint64_t> receipts_read{0};
  std::atomic<int64_t> inbox_items{0};     // waiting in inboxes homed here
  std::atomic<uint64_t> store_write_failures{0};
  std::atomic<uint64_t> largest_mailbox{0};  // the largest one seen lately
  std::array<std::atomic<uint64_t>, error_codes> errors{};  // by wire::ErrorCode

  histogram delivery_latency;   // stored -> written to the recipient's socket
  histogram commit_latency;     // one store write batch
  size_histogram batch_size;    // requests per store write batch

  void count_error(wire::ErrorCode code) noexcept {
    auto i = static_cast<size_t>(code);
    if (i < error_codes)
      errors[i].fetch_add(1, std::memory_order_relaxed);
  }

  /// Keeps the largest mailbox size reported since the last render.
  void saw_mailbox(uint64_t size) noexcept;

  /// The whole exposition text.
  std::string render();
};

inline void bump(std::atomic<uint64_t>& counter, uint64_t n = 1) noexcept {
  counter.fetch_add(n, std::memory_order_relaxed);
}

} // namespace parley
