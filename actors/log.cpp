#include "actors/log.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <thread>

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

void write_all(const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    auto n = ::write(STDERR_FILENO, text.data() + done, text.size() - done);
    if (n <= 0) {
      if (n < 0 && errno == EINTR)
        continue;
      return;  // nowhere to report it
    }
    done += static_cast<size_t>(n);
  }
}

/// Lines gathered for batch_log_lines. Never destroyed: lines may be logged
/// while the process's statics are being torn down.
struct batch {
  static constexpr auto delay = std::chrono::milliseconds(50);
  static constexpr size_t max_bytes = 64 * 1024;  // written at once beyond this

  std::mutex mutex;
  std::condition_variable gathered;  // the first line of a batch is in
  std::string lines;

  /// Writes each batch `delay` after its first line.
  void run() {
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
      gathered.wait(lock, [this] { return !lines.empty(); });
      gathered.wait_for(lock, delay, [] { return false; });
      write_all(lines);
      lines.clear();
    }
  }
};

std::atomic<batch*> batch_{nullptr};

std::string stamped(log_level level, const std::string& text) {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto secs = system_clock::to_time_t(now);
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  // The date and time to the second, formatted once a second per thread.
  thread_local std::time_t stamp_secs = -1;
  thread_local char stamp[32];
  if (secs != stamp_secs) {
    std::tm tm{};
    gmtime_r(&secs, &tm);
    std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
    stamp_secs = secs;
  }
  char prefix[64];
  std::snprintf(prefix, sizeof(prefix), "%s.%03dZ %s ", stamp, static_cast<int>(ms),
                level_name(level));
  std::string line;
  line.reserve(std::char_traits<char>::length(prefix) + text.size() + 1);
  line += prefix;
  line += text;
  line += '\n';
  return line;
}

} // namespace

void set_log_level(log_level level) noexcept {
  level_ = static_cast<int>(level);
}

log_level current_log_level() noexcept {
  return static_cast<log_level>(level_.load(std::memory_order_relaxed));
}

void batch_log_lines() {
  if (batch_.load())
    return;
  auto* b = new batch;
  batch_.store(b);
  std::thread([b] { b->run(); }).detach();
  std::atexit(flush_log);  // a return from main; _Exit callers flush themselves
}

void flush_log() {
  if (auto* b = batch_.load()) {
    std::lock_guard<std::mutex> lock(b->mutex);
    write_all(b->lines);
    b->lines.clear();
  }
}

void write_log_line(log_level level, const std::string& text) {
  auto line = stamped(level, text);
  auto* b = batch_.load(std::memory_order_acquire);
  if (!b)
    return write_all(line);
  std::lock_guard<std::mutex> lock(b->mutex);
  bool first = b->lines.empty();
  b->lines += line;
  if (level <= log_level::warning || b->lines.size() >= batch::max_bytes) {
    write_all(b->lines);
    b->lines.clear();
  } else if (first) {
    b->gathered.notify_one();
  }
}

std::ostringstream& log_stream() {
  thread_local std::ostringstream out;
  return out;
}

} // namespace parley
