// A node's settings and the CAF configuration every parley binary uses.
//
// node_config registers all message types of actors/messages.hpp under fixed
// names, so two processes built from this tree understand each other.
#pragma once

#include <caf/actor_system_config.hpp>
#include <caf/timespan.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace parley {

/// What an operator can set; defaults are the embedded single-node setup.
struct node_settings {
  // -- where it listens and keeps its data ---------------------------------------
  std::string host = "127.0.0.1";
  uint16_t port = 7000;
  std::string data_dir = "./data";
  std::string port_file;  // if set, the bound port is written there (for tests)
  std::string admin_host = "127.0.0.1";    // parley-shell connects here
  uint16_t admin_port = 7099;              // 0: any free port (logged)
  std::string metrics_host = "127.0.0.1";  // Prometheus scrapes here
  uint16_t metrics_port = 9464;            // 0: any free port (logged)

  // -- liveness --------------------------------------------------------------------
  caf::timespan heartbeat_interval = std::chrono::seconds(5);
  size_t missed_heartbeats = 3;
  caf::timespan login_timeout = std::chrono::seconds(10);
  caf::timespan request_timeout = std::chrono::seconds(5);

  // -- limits ----------------------------------------------------------------------
  size_t max_payload = 64 * 1024;
  size_t max_frame = 64 * 1024 + 1024;
  size_t max_outgoing_bytes = 1024 * 1024;
  size_t max_pending_sends = 1024;
  size_t inbox_window = 4096;
  size_t inbox_window_bytes = 512 * 1024;
  size_t max_watched = 1024;
  size_t max_connections = 9000;     // per node; more are refused
  size_t inbox_quota = 500000;       // undelivered items per user
  size_t max_prekeys = 1000;         // one-time prekeys kept per user
  double rate_messages = 200;        // sends a second per connection (burst 2x)
  double rate_bytes = 1024 * 1024;   // payload bytes a second per connection (burst 2x)
  double login_rate = 50;            // login attempts a second per address (burst 10x)
  size_t login_failures = 5;         // failed proofs per user, then one a minute
  size_t read_chunk = 256;  // each connection holds a buffer this big (W1 memory)

  // -- cluster -----------------------------------------------------------------------
  std::string cluster_name = "n1";          // this node's member name
  std::vector<std::string> cluster_members;  // "name@host:port"; empty: standalone
  std::string cluster_secret_file;           // the shared cookie, one line

  // -- groups and calls ------------------------------------------------------------
  size_t max_group_members = 1024;   // the creator included
  size_t group_fanout_batch = 64;    // recipients per store request of a fan-out
  size_t group_fanout_window = 2;    // fan-out requests in flight per member node
  caf::timespan group_idle_timeout = std::chrono::seconds(60);  // then its actor stops
  caf::timespan call_ring_timeout = std::chrono::seconds(45);   // unanswered calls end
  std::string turn_secret_file;      // coturn's static-auth-secret; empty: no TURN
  std::vector<std::string> turn_uris;  // handed to clients with the credentials
  caf::timespan turn_ttl = std::chrono::seconds(3600);  // lifetime of credentials

  // -- media -------------------------------------------------------------------------
  std::string media_key_file;  // the key shared with parley-media; empty: no tokens
  std::string media_url;       // where clients find parley-media (told with each token)
  caf::timespan media_token_ttl = std::chrono::minutes(15);

  // -- durability ------------------------------------------------------------------
  bool fsync = true;
  std::string rocksdb_options;  // RocksDB options string over parley's defaults
  caf::timespan presence_flush_interval = std::chrono::seconds(10);

  /// Checks that the settings make sense together; returns the problem or "".
  std::string validate() const;
};

/// The actor system configuration of parley's binaries.
class node_config : public caf::actor_system_config {
public:
  node_config();

  /// Every option this configuration understands (for argument spelling).
  const caf::config_option_set& options() const noexcept {
    return custom_options_;
  }

  node_settings settings;
};

} // namespace parley
