// One line per event worth knowing, to standard error.
#pragma once

#include <sstream>
#include <string>

namespace parley {

enum class log_level { error = 0, warning = 1, info = 2, debug = 3 };

/// The level below which lines are dropped; settable at run time.
void set_log_level(log_level level) noexcept;
log_level current_log_level() noexcept;

/// From now on, info and debug lines are gathered and written together, at
/// most 50 ms after the first of them, by a thread of their own: a line and
/// its own write cost 3.7-4.0 us, and every login logs one (docs/BENCHMARKS.md,
/// row 54). Warnings and errors are written at once, after every line before
/// them, so a crash loses at most 50 ms of info lines, never the error. Called
/// by parley-node at start.
void batch_log_lines();

/// Writes every gathered line now: for a process about to leave by _Exit.
void flush_log();

/// Writes one line with a timestamp and the level, in a single write (or as
/// part of one, once batch_log_lines was called).
void write_log_line(log_level level, const std::string& text);

/// The calling thread's stream for formatting lines: built once per thread,
/// since building a stream (its locale) costs more than formatting a line.
std::ostringstream& log_stream();

template <class... Ts>
void log(log_level level, const Ts&... xs) {
  if (level > current_log_level())
    return;
  auto& out = log_stream();
  out.str(std::string{});
  out.clear();
  out.flags(std::ios_base::dec | std::ios_base::skipws);  // as a new stream's
  out.precision(6);
  (out << ... << xs);
  write_log_line(level, out.str());
}

} // namespace parley
