#include "tools/bench/stats.hpp"

#include <algorithm>
#include <sstream>

namespace parley::bench {

namespace {

bool earliest(mark m) noexcept {
  return m == mark::first_connect || m == mark::first_send;
}

} // namespace

const char* name_of(counter c) noexcept {
  static constexpr const char* names[] = {
    "registered",      "logins",          "login_failed",    "sends",
    "sent_ticks",      "refused",         "delivered",       "duplicates",
    "reordered",       "delivered_ticks", "duplicate_ticks", "stale",
    "errors",          "closed",          "frames_in",       "frames_out",
    "bytes_in",        "bytes_out",       "wakeups",         "writes",
    "retransmits",     "reconnects",      "redelivered",     "unsent"};
  static_assert(sizeof(names) / sizeof(names[0]) == counter_count);
  return names[static_cast<size_t>(c)];
}

const char* name_of(latency l) noexcept {
  static constexpr const char* names[] = {"login", "sent_tick", "deliver",
                                          "delivered_tick", "lag"};
  static_assert(sizeof(names) / sizeof(names[0]) == latency_count);
  return names[static_cast<size_t>(l)];
}

void report::set(mark m, int64_t ns) noexcept {
  auto& slot = marks[static_cast<size_t>(m)];
  if (slot == 0)
    slot = ns;
  else
    slot = earliest(m) ? std::min(slot, ns) : std::max(slot, ns);
}

void report::merge(const report& other) noexcept {
  for (size_t i = 0; i < counter_count; ++i)
    counts[i] += other.counts[i];
  for (size_t i = 0; i < mark_count; ++i)
    if (other.marks[i] != 0)
      set(static_cast<mark>(i), other.marks[i]);
  for (size_t i = 0; i < latency_count; ++i)
    latencies[i].merge(other.latencies[i]);
  for (size_t i = 0; i < error_code_slots; ++i)
    errors_by_code[i] += other.errors_by_code[i];
}

// Layout: "c n n ... m n n ... e n n ... [h <count sum max i:n ...> ...]" where
// each histogram is its own '|'-separated part.
std::string report::serialize(bool counts_only) const {
  std::ostringstream out;
  out << 'c';
  for (auto n : counts)
    out << ' ' << n;
  out << " m";
  for (auto t : marks)
    out << ' ' << t;
  out << " e";
  for (auto n : errors_by_code)
    out << ' ' << n;
  if (!counts_only)
    for (auto& h : latencies)
      out << " |" << h.serialize();
  return out.str();
}

bool report::parse(std::string_view text) {
  report r;
  auto bar = text.find('|');
  std::istringstream in{std::string(text.substr(0, bar))};
  std::string tag;
  if (!(in >> tag) || tag != "c")
    return false;
  for (auto& n : r.counts)
    if (!(in >> n))
      return false;
  if (!(in >> tag) || tag != "m")
    return false;
  for (auto& t : r.marks)
    if (!(in >> t))
      return false;
  if (!(in >> tag) || tag != "e")
    return false;
  for (auto& n : r.errors_by_code)
    if (!(in >> n))
      return false;
  size_t i = 0;
  while (bar != std::string_view::npos) {
    auto next = text.find('|', bar + 1);
    auto part = text.substr(bar + 1, next == std::string_view::npos
                                       ? std::string_view::npos
                                       : next - bar - 1);
    if (i >= latency_count || !r.latencies[i].parse(part))
      return false;
    ++i;
    bar = next;
  }
  *this = std::move(r);
  return true;
}

} // namespace parley::bench
