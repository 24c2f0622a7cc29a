// One line per event worth knowing, to standard error.
#pragma once

#include <sstream>
#include <string>

namespace parley {

enum class log_level { error = 0, warning = 1, info = 2, debug = 3 };

/// The level below which lines are dropped; settable at run time.
void set_log_level(log_level level) noexcept;
log_level current_log_level() noexcept;

/// Writes one line with a timestamp and the level, in a single write.
void write_log_line(log_level level, const std::string& text);

template <class... Ts>
void log(log_level level, const Ts&... xs) {
  if (level > current_log_level())
    return;
  std::ostringstream out;
  (out << ... << xs);
  write_log_line(level, out.str());
}

} // namespace parley
