// What /proc says about a process: resident memory and CPU time, and which
// process listens on a TCP port.
#pragma once

#include <cstdint>
#include <optional>
#include <sys/types.h>
#include <vector>

namespace parley::bench {

/// One look at a process.
struct proc_sample {
  bool ok = false;        // false if the process is gone or unreadable
  uint64_t rss_kb = 0;    // VmRSS
  uint64_t peak_kb = 0;   // VmHWM: the largest RSS since it started
  double cpu_seconds = 0; // user + system, all threads
};

proc_sample sample_process(pid_t pid);

/// The sum over `pids` (ok only if every one was readable).
proc_sample sample_processes(const std::vector<pid_t>& pids);

/// The process with a socket listening on `port` (IPv4 or IPv6), found through
/// /proc/net/tcp{,6} and /proc/*/fd; only processes this user may inspect.
std::optional<pid_t> find_listener(uint16_t port);

/// CLOCK_MONOTONIC in nanoseconds: the one clock every process of the machine
/// shares, so a payload's stamp means the same to its sender and recipient.
int64_t now_ns() noexcept;

} // namespace parley::bench
