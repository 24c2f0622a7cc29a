#include "actors/metrics.hpp"

#include "schema/errors.hpp"

#include <cstdio>

namespace parley {

namespace {

void line(std::string& out, const std::string& text) {
  out += text;
  out += '\n';
}

void header(std::string& out, const std::string& name, const char* type,
            const std::string& help) {
  line(out, "# HELP " + name + " " + help);
  line(out, "# TYPE " + name + " " + type);
}

std::string number(double x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", x);
  return buf;
}

template <class T>
void scalar(std::string& out, const std::string& name, const char* type,
            const std::string& help, T value) {
  header(out, name, type, help);
  line(out, name + " " + std::to_string(value));
}

} // namespace

void histogram::observe(double value) noexcept {
  size_t i = 0;
  while (i < bounds.size() && value > bounds[i])
    ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<uint64_t>(value * 1e6), std::memory_order_relaxed);
}

void histogram::render(std::string& out, const std::string& name,
                       const std::string& help) const {
  header(out, name, "histogram", help);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    line(out, name + "_bucket{le=\"" + number(bounds[i]) + "\"} "
                + std::to_string(cumulative));
  }
  cumulative += buckets_[bounds.size()].load(std::memory_order_relaxed);
  line(out, name + "_bucket{le=\"+Inf\"} " + std::to_string(cumulative));
  line(out, name + "_sum " + number(sum_micros_.load(std::memory_order_relaxed) / 1e6));
  line(out, name + "_count " + std::to_string(count_.load(std::memory_order_relaxed)));
}

void size_histogram::observe(uint64_t value) noexcept {
  size_t i = 0;
  while (i < bounds.size() && value > bounds[i])
    ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

void size_histogram::render(std::string& out, const std::string& name,
                            const std::string& help) const {
  header(out, name, "histogram", help);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    line(out, name + "_bucket{le=\"" + std::to_string(bounds[i]) + "\"} "
                + std::to_string(cumulative));
  }
  cumulative += buckets_[bounds.size()].load(std::memory_order_relaxed);
  line(out, name + "_bucket{le=\"+Inf\"} " + std::to_string(cumulative));
  line(out, name + "_sum " + std::to_string(sum_.load(std::memory_order_relaxed)));
  line(out, name + "_count " + std::to_string(count_.load(std::memory_order_relaxed)));
}

void node_metrics::saw_mailbox(uint64_t size) noexcept {
  auto seen = largest_mailbox.load(std::memory_order_relaxed);
  while (size > seen
         && !largest_mailbox.compare_exchange_weak(seen, size, std::memory_order_relaxed)) {
    // retry with the value another actor stored
  }
}

std::string node_metrics::render() {
  std::string out;
  scalar(out, "parley_connections", "gauge", "Client connections open now.",
         connections.load(std::memory_order_relaxed));
  scalar(out, "parley_logins_total", "counter", "Logins that succeeded.",
         logins.load(std::memory_order_relaxed));
  scalar(out, "parley_messages_in_total", "counter",
         "Messages stored for their recipients (each got its sent tick).",
         messages_in.load(std::memory_order_relaxed));
  scalar(out, "parley_messages_out_total", "counter",
         "Messages written to their recipients' connections.",
         messages_out.load(std::memory_order_relaxed));
  header(out, "parley_receipts_total", "counter",
         "Receipts made from recipients' acknowledgements, by state.");
  line(out, "parley_receipts_total{state=\"delivered\"} "
              + std::to_string(receipts_delivered.load(std::memory_order_relaxed)));
  line(out, "parley_receipts_total{state=\"read\"} "
              + std::to_string(receipts_read.load(std::memory_order_relaxed)));
  scalar(out, "parley_inbox_items", "gauge",
         "Messages and receipts waiting in the inboxes of users homed here.",
         inbox_items.load(std::memory_order_relaxed));
  scalar(out, "parley_store_write_failures_total", "counter",
         "Store write batches RocksDB refused.",
         store_write_failures.load(std::memory_order_relaxed));
  // The largest mailbox since the last scrape: reset so a spike shows once.
  scalar(out, "parley_largest_mailbox", "gauge",
         "The largest mailbox an actor reported since the last scrape.",
         largest_mailbox.exchange(0, std::memory_order_relaxed));
  header(out, "parley_errors_total", "counter", "Error frames sent to clients, by code.");
  for (size_t i = 0; i < error_codes; ++i) {
    auto n = errors[i].load(std::memory_order_relaxed);
    if (n > 0)
      line(out, "parley_errors_total{code=\""
                  + std::string(to_string(static_cast<wire::ErrorCode>(i))) + "\"} "
                  + std::to_string(n));
  }
  delivery_latency.render(out, "parley_delivery_latency_seconds",
                          "From storing a message to writing it to its recipient "
                          "(offline time included).");
  commit_latency.render(out, "parley_store_commit_seconds",
                        "Time to write (and fsync) one store batch.");
  batch_size.render(out, "parley_store_batch_size", "Requests per store write batch.");
  return out;
}

} // namespace parley
