// What one parley-bench run is to do: the workload, its sizes and where the node
// is. Filled from the command line; read by the coordinator and every worker.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace parley::bench {

/// The command line, checked.
struct plan {
  std::string workload;        // register, w1 ... w5
  std::string host = "127.0.0.1";
  uint16_t port = 7000;
  sockaddr_storage target{};   // host:port, resolved
  socklen_t target_len = 0;
  bool loopback = false;       // target in 127/8: workers bind 127.0.0.x sources

  size_t users = 0;            // w1-w3, w5: users; w4: senders + 1 (the offline one)
  size_t payload = 100;        // bytes per message
  size_t window = 16;          // w2, w4: unanswered sends per sender
  double seconds = 20;         // w2, w3: sending time
  double rate = 5000;          // w3: messages/s over all senders
  double warmup = 0;           // w3: latencies of sends in the first seconds not recorded
  size_t count = 50000;        // w4: messages to the offline user
  double hold = 2;             // w1: seconds all stay logged in after the RSS reading
  double settle = 1;           // w1: seconds between the last login and the RSS reading
  double drain = 30;           // seconds to wait for outstanding answers at the end
  double start_delay = 0.2;    // w2-w5: seconds between the last login and the first send

  size_t login_concurrency = 256;  // logins under way at once, per process
  size_t register_connections = 8;
  size_t register_window = 256;    // unanswered registers per connection
  size_t max_per_process = 19000;  // connections; more users: more processes
  size_t procs = 0;                // 0: as many as max_per_process needs

  std::vector<pid_t> node_pids;    // empty: the process listening on the port
  std::string keys_file;
  bool force_register = false;     // register even users read from the key file
  bool json = false;
  std::string json_file;           // also write the JSON object here
  bool quiet = false;

  uint32_t run_code = 0;           // tells this invocation's messages from others'
};

/// The users a worker acts as, [begin, end) of the run's users, and the source
/// addresses it connects from: `sources` consecutive ones from `source`, in
/// turn. The kernel's search for a free ephemeral port at connect grows with the
/// connections a source address already has to the node; with 18,000 from one
/// it was half of a load process's CPU and held W1 near 3,000 logins/s.
struct slice {
  size_t index = 0;
  size_t begin = 0;
  size_t end = 0;
  bool bind_source = false;
  in_addr source{};
  uint32_t sources = 1;
};

} // namespace parley::bench
