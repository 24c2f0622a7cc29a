// A loopback TCP proxy for the chaos driver: clients connect to it, it connects
// each of them on to one of the targets (a node, or a load balancer in front of
// several), round robin, and forwards bytes both ways. The driver can break the
// connections that pass through it:
// - cut: both sides are reset at once (what a dropped NAT entry or a crashed
//   middlebox looks like);
// - stall: nothing passes either way for a while, then forwarding resumes (a
//   silent link: only missed heartbeats reveal it, and frames held back may
//   still arrive after the client has moved on to a new connection).
//
// One thread does all the forwarding. It stops, closing every connection, when
// the proxy is destroyed.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace parley::chaos {

struct endpoint {
  std::string host;
  uint16_t port = 0;
};

/// Parses "HOST:PORT"; nothing if it is not.
bool parse_endpoint(const std::string& text, endpoint& out);

/// The proxy. Start it, read port(), point clients at 127.0.0.1:port().
class tcp_proxy {
public:
  explicit tcp_proxy(std::vector<endpoint> targets, uint64_t seed);
  ~tcp_proxy();

  tcp_proxy(const tcp_proxy&) = delete;
  tcp_proxy& operator=(const tcp_proxy&) = delete;

  /// Listens on 127.0.0.1 (a port the OS picks) and starts forwarding.
  bool start(std::string& error);

  uint16_t port() const noexcept {
    return port_;
  }

  /// Resets one random connection (both sides).
  void cut_one();

  /// Holds one random connection still for `how_long`.
  void stall_one(std::chrono::milliseconds how_long);

  /// Lets every stalled connection go on now.
  void resume_all();

  /// Keeps a copy of every byte forwarded either way (call before start): for
  /// tests that check what crosses the wire.
  void record() {
    recording_ = true;
  }

  /// What was forwarded so far, both directions mixed.
  std::string recorded() const {
    std::lock_guard<std::mutex> guard{recorded_mtx_};
    return recorded_;
  }

  // -- what happened (for the report) --------------------------------------------

  uint64_t accepted() const noexcept {
    return accepted_;
  }
  uint64_t cuts() const noexcept {
    return cuts_;
  }
  uint64_t stalls() const noexcept {
    return stalls_;
  }
  /// Client connections refused because no target accepted.
  uint64_t refused() const noexcept {
    return refused_;
  }

private:
  using clock = std::chrono::steady_clock;

  /// One client connection and its upstream.
  struct link {
    int down = -1;               // to the client
    int up = -1;                 // to the target
    std::string to_up;           // read from the client, not yet written up
    std::string to_down;         // read from the target, not yet written down
    clock::time_point stalled_until{};
  };

  struct command {
    enum class kind { cut, stall, resume_all } what;
    std::chrono::milliseconds how_long{0};
  };

  void run();
  void accept_all();
  int connect_upstream();
  void apply(const command& c);
  /// Moves bytes from `from` to `to` through `pending`; false if the link ends.
  bool forward(int from, int to, std::string& pending);
  bool flush(int to, std::string& pending);
  void close_link(link& l, bool reset);
  void post(command c);

  std::vector<endpoint> targets_;
  size_t next_target_ = 0;
  std::mt19937_64 rng_;
  int listener_ = -1;
  int wake_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::vector<link> links_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::deque<command> commands_;  // guarded by mutex_
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> cuts_{0};
  std::atomic<uint64_t> stalls_{0};
  std::atomic<uint64_t> refused_{0};
  bool recording_ = false;
  mutable std::mutex recorded_mtx_;
  std::string recorded_;
};

} // namespace parley::chaos
