// parley-floor: what this machine allows a server that does nothing but the
// bare work of a workload, so parley's figures can be read against it. Two
// floors, each a tiny single-threaded epoll server in its own process pinned to
// one CPU, driven by a client pinned to the other:
//   relay:  W3's shape: 100-byte frames relayed from connection i to i + n/2 at
//           a fixed rate; optionally each wakeup's frames appended to a file
//           and fdatasynced before any is relayed (the durability parley pays).
//   logins: W1's shape: connect, send a key, get a 32-byte challenge, send its
//           Ed25519 signature, get one byte once it verifies (libsodium).
// Neither speaks parley's protocol; both are for measuring, not for use.
#pragma once

#include "tools/bench/histogram.hpp"

#include <cstdint>
#include <functional>
#include <string>

namespace parley::floor {

/// Where the server and the client run.
struct cpus {
  int server = 0;
  int client = 1;
};

int64_t now_ns();

/// A non-blocking listener on 127.0.0.1 at a port the kernel picks; its port
/// in `port`. Exits the process with a message on failure.
int listen_loopback(uint16_t& port);

/// A non-blocking socket connecting to 127.0.0.1:port from 127.0.0.(1 + i % 16),
/// so the kernel's search for a free source port stays short.
int connect_loopback(uint16_t port, int i);

/// The server's CPU time so far, from /proc (ns).
int64_t cpu_ns(int pid);

/// A floor server's loop, for ever: each turn accepts what waits on
/// `listener` (up to `limit` connections in all, TCP_NODELAY, each known by its
/// index in accept order), calls `readable(index, fd)` for each connection with
/// input, then `turn_done()`.
[[noreturn]] void serve_connections(int listener, int limit,
                                    const std::function<void(uint32_t index, int fd)>& readable,
                                    const std::function<void()>& turn_done);

/// Runs `serve(listener)` in a child process pinned to `where.server` and
/// `drive(port)` here, pinned to `where.client`; prints the server's CPU time
/// over the drive, divided by `per` items, and returns drive's exit code.
int run_split(const cpus& where, const std::function<void(int listener)>& serve,
              const std::function<int(uint16_t port, int64_t& items)>& drive,
              const char* per);

/// "p50 … p90 … p99 … p99.9 … max … ms" of `h`: parley-bench's histogram, so
/// the floor's figures are read the way the bench's are (≤ 3% high).
std::string percentiles(const bench::histogram& h);

struct relay_options {
  int connections = 10000;
  double rate = 5000;
  double seconds = 10;
  std::string sync_file;  // empty: no fsync
};
int relay(const cpus& where, const relay_options& options);

struct login_options {
  int count = 18000;
  int window = 256;  // logins under way at once, as parley-bench w1
};
int logins(const cpus& where, const login_options& options);

} // namespace parley::floor
