#include "actors/config.hpp"

#include "actors/call/call_messages.hpp"
#include "actors/group/group_messages.hpp"
#include "actors/messages.hpp"
#include "actors/session/session_ref.hpp"

#include <sched.h>

#include <thread>

namespace parley {

namespace {

/// The cores this process may run on (its affinity mask, e.g. under taskset),
/// which std::thread::hardware_concurrency does not look at.
size_t usable_cores() {
  cpu_set_t mask;
  if (sched_getaffinity(0, sizeof(mask), &mask) == 0)
    return std::max(1, CPU_COUNT(&mask));
  return std::max(1u, std::thread::hardware_concurrency());
}

} // namespace

std::string node_settings::validate() const {
  if (max_frame < max_payload + 512)
    return "parley.max-frame must exceed parley.max-payload by at least 512 bytes";
  if (missed_heartbeats == 0)
    return "parley.missed-heartbeats must be at least 1";
  if (heartbeat_interval <= caf::timespan{0})
    return "parley.heartbeat-interval must be positive";
  if (inbox_window == 0 || inbox_window_bytes == 0)
    return "parley.inbox-window and parley.inbox-window-bytes must be at least 1";
  if (rate_bytes * 2 < static_cast<double>(max_payload))
    return "parley.rate-bytes must be at least half of parley.max-payload";
  if (rate_messages <= 0 || login_rate <= 0 || login_failures == 0)
    return "parley.rate-messages, login-rate and login-failures must be positive";
  if (max_connections == 0 || inbox_quota == 0)
    return "parley.max-connections and parley.inbox-quota must be positive";
  if (read_chunk < 64)
    return "parley.read-chunk must be at least 64";
  if (max_pending_sends == 0)
    return "parley.max-pending-sends must be at least 1";
  if (max_group_members < 2 || group_fanout_batch == 0 || group_fanout_window == 0)
    return "parley.max-group-members must be at least 2, group-fanout-batch and "
           "group-fanout-window at least 1";
  if (call_ring_timeout <= caf::timespan{0} || turn_ttl <= caf::timespan{0})
    return "parley.call-ring-timeout and parley.turn-ttl must be positive";
  if (media_token_ttl < std::chrono::seconds(1))
    return "parley.media-token-ttl must be at least 1s";
  return {};
}

node_config::node_config() {
  auto& s = settings;
  opt_group{custom_options_, "global"}
    .add(s.host, "host", "address to accept clients on")
    .add(s.port, "port", "port to accept clients on (0: any free port)")
    .add(s.data_dir, "data-dir", "folder of the node's RocksDB")
    .add(s.port_file, "port-file", "write the bound client port to this file")
    .add(s.admin_host, "admin-host", "address parley-shell connects to")
    .add(s.admin_port, "admin-port", "port parley-shell connects to (0: any)")
    .add(s.metrics_host, "metrics-host", "address serving Prometheus /metrics")
    .add(s.metrics_port, "metrics-port", "port serving Prometheus /metrics (0: any)");
  opt_group{custom_options_, "parley"}
    .add(s.heartbeat_interval, "heartbeat-interval",
         "how often clients send heartbeats")
    .add(s.missed_heartbeats, "missed-heartbeats",
         "heartbeats a connection may miss before it is closed")
    .add(s.login_timeout, "login-timeout", "time a connection has to log in")
    .add(s.request_timeout, "request-timeout",
         "time a session waits for the store before answering unavailable")
    .add(s.max_payload, "max-payload", "largest message payload in bytes")
    .add(s.max_frame, "max-frame", "largest client frame in bytes")
    .add(s.max_outgoing_bytes, "max-outgoing-bytes",
         "bytes queued for a client that does not read before it is closed")
    .add(s.max_pending_sends, "max-pending-sends",
         "unanswered sends per connection; more are refused (tooManyPending)")
    .add(s.inbox_window, "inbox-window",
         "inbox items sent to a client and not yet acknowledged, at most")
    .add(s.inbox_window_bytes, "inbox-window-bytes",
         "bytes of inbox items sent to a client and not yet acknowledged: at most "
         "this plus one item")
    .add(s.max_watched, "max-watched",
         "users one connection may watch for presence changes")
    .add(s.max_connections, "max-connections",
         "client connections per node; more are refused (tooManyConnections)")
    .add(s.inbox_quota, "inbox-quota",
         "undelivered items per user; sends beyond it get inboxFull")
    .add(s.rate_messages, "rate-messages",
         "messages a second one connection may send (bursts of twice as many)")
    .add(s.rate_bytes, "rate-bytes",
         "payload bytes a second one connection may send (bursts of twice as many)")
    .add(s.login_rate, "login-rate",
         "login attempts a second from one address (bursts of ten times as many)")
    .add(s.login_failures, "login-failures",
         "failed login proofs per user before it may try only once a minute")
    .add(s.max_prekeys, "max-prekeys", "one-time prekeys kept per user")
    .add(s.read_chunk, "read-chunk",
         "bytes a connection reads at once (each idle connection holds one)")
    .add(s.fsync, "fsync", "fsync the WAL for each write batch that promises durability")
    .add(s.rocksdb_options, "rocksdb-options",
         "RocksDB options over parley's, e.g. \"write_buffer_size=16777216\"")
    .add(s.presence_flush_interval, "presence-flush-interval",
         "how often last-seen times are written to the store")
    .add(s.max_group_members, "max-group-members", "members a group may have")
    .add(s.group_fanout_batch, "group-fanout-batch",
         "recipients per store request when a group message is fanned out")
    .add(s.group_fanout_window, "group-fanout-window",
         "fan-out requests of one group in flight to one node, at most")
    .add(s.group_idle_timeout, "group-idle-timeout",
         "a group's actor stops after this long without work (it reloads on demand)")
    .add(s.call_ring_timeout, "call-ring-timeout",
         "a call nobody accepted ends after this long")
    .add(s.turn_secret_file, "turn-secret-file",
         "file holding coturn's static-auth-secret; empty: no TURN credentials")
    .add(s.turn_uris, "turn-uris",
         "TURN server URIs handed out with credentials, e.g. [\"turn:host:3478\"]")
    .add(s.turn_ttl, "turn-ttl", "how long TURN credentials stay valid")
    .add(s.media_key_file, "media-key-file",
         "file with the key shared with parley-media; empty: no media tokens")
    .add(s.media_url, "media-url",
         "the media service's URL as clients reach it, e.g. http://media:8080")
    .add(s.media_token_ttl, "media-token-ttl", "how long a media token is valid");
  opt_group{custom_options_, "cluster"}
    .add(s.cluster_name, "name", "this node's name among the members")
    .add(s.cluster_members, "members",
         "every member as \"name@host:port\" (its peer address); empty: standalone")
    .add(s.cluster_secret_file, "secret-file",
         "file holding the cluster's shared secret (the cookie)");
  // A frozen or unreachable peer must be noticed (a killed one is at once: its
  // sockets close); both are off by default in CAF 0.17 (see
  // shared/notes/libraries.md). Not within 2 s: nodes slowed down by load then
  // cut each other off, and every session whose user's home was behind a cut
  // link was closed (W5, docs/BENCHMARKS.md, row 44). A send to a frozen peer
  // is answered `unavailable` after parley.request-timeout either way.
  set("middleman.heartbeat-interval", caf::timespan{std::chrono::milliseconds(500)});
  set("middleman.connection-timeout", caf::timespan{std::chrono::seconds(10)});
  // The scheduler's default of max(cores, 4) threads raises latency on small
  // machines (see shared/notes/libraries.md): one per core this process may run
  // on. Idle workers poll to steal work, so on a node pinned to one core a
  // second one only takes time from the first (docs/BENCHMARKS.md, row 21).
  set("scheduler.max-threads", usable_cores());
  add_message_type<outgoing_message>("parley.outgoing_message");
  add_message_type<inbox_item>("parley.inbox_item");
  add_message_type<inbox_items>("parley.inbox_items");
  add_message_type<presence_info>("parley.presence_info");
  add_message_type<node_actors>("parley.node_actors");
  add_message_type<prekey_bundle>("parley.prekey_bundle");
  add_message_type<forwarded_receipt>("parley.forwarded_receipt");
  add_message_type<std::vector<forwarded_receipt>>("parley.forwarded_receipts");
  add_message_type<last_seen_batch>("parley.last_seen_batch");
  add_message_type<std::vector<std::string>>("parley.strings");
  add_message_type<std::vector<uint64_t>>("parley.u64s");
  add_message_type<group_state>("parley.group_state");
  add_message_type<group_request>("parley.group_request");
  add_message_type<group_send>("parley.group_send");
  add_message_type<group_fanout>("parley.group_fanout");
  add_message_type<group_message_entry>("parley.group_message_entry");
  add_message_type<message_info>("parley.message_info");
  add_message_type<call_signal>("parley.call_signal");
  add_message_type<session_ref>("parley.session_ref");
}

} // namespace parley
