#include "actors/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace parley {

namespace {

std::atomic<int> level_{static_cast<int>(log_level::info)};

const char* level_name(log_level level) {
  switch (level) {
    case log_level::error:
      return "ERROR";
    case log_level::warning:
      return "WARN ";
    case log_level::info:
      return "INFO ";
    default:
      return "DEBUG";
  }
}

} // namespace

void set_log_level(log_level level) noexcept {
  level_ = static_cast<int>(level);
}

log_level current_log_level() noexcept {
  return static_cast<log_level>(level_.load(std::memory_order_relaxed));
}

void write_log_line(log_level level, const std::string& text) {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
  char prefix[64];
  std::snprintf(prefix, sizeof(prefix), "%s.%03dZ %s ", stamp,
                static_cast<int>(ms), level_name(level));
  std::string line = prefix + text + '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

} // namespace parley
