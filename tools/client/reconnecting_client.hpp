// A client that keeps one user's device in touch with the node and loses no
// message on the way: connection (client.hpp) for the wire, device_store
// (device_store.hpp) for what must survive.
//
// - send() commits the message to the outbox before anything goes on the wire.
// - While connected it posts the outbox in order, a bounded window of sends at a
//   time, and records each sent tick. After every (re)connect it posts again
//   from the oldest message without a tick, with the same ids: the node answers
//   a retransmission without delivering it twice.
// - Incoming messages are committed (deduplicated by sender and id) before they
//   are acknowledged as delivered; receipts are recorded before ackReceipts. The
//   node pushes everything unacknowledged again to the next session, so what was
//   missed while away arrives by itself.
// - A link is dead when nothing has arrived for `missed_pongs` heartbeat
//   intervals although it probes with heartbeats (the node pongs each); then,
//   and on any transport failure, it reconnects after an exponential backoff
//   with jitter.
//
// Single-threaded and blocking: step() does the work, waiting no longer than its
// caller allows. It stops when destroyed (logging out if connected).
#pragma once

#include "tools/client/backoff.hpp"
#include "tools/client/client.hpp"
#include "tools/client/device_store.hpp"
#include "tools/client/e2e_codec.hpp"
#include "tools/client/keystore.hpp"

#include <chrono>
#include <deque>
#include <string>
#include <variant>
#include <vector>

namespace parley::client {

struct reconnect_options {
  std::chrono::milliseconds initial_backoff{250};
  std::chrono::milliseconds max_backoff{10000};
  /// Sends posted and not yet answered, at most; never more than the node's
  /// maxPendingSends (which would make it refuse one, out of order).
  size_t window = 32;
  /// How often to probe a silent link; zero: the node's heartbeat interval.
  std::chrono::milliseconds heartbeat{0};
  /// Probe intervals of silence after which the link counts as dead.
  unsigned missed_pongs = 3;
  /// Record and acknowledge incoming messages and receipts. Off for one-shot
  /// senders (parley-chat send), which leave them on the node for a listener.
  bool receive = true;
  /// Seeds the backoff's jitter; 0 picks one at random.
  uint64_t seed = 0;
  /// Seals bodies before they leave the device and opens what arrives (end-to-
  /// end encryption); none: bodies travel as they are. Must outlive the client.
  payload_codec* codec = nullptr;
};

/// Logged in (again).
struct link_up {
  welcome_info welcome;
};

/// The link failed or could not be made; the next attempt is in `retry_in`.
struct link_down {
  failure why;
  std::chrono::milliseconds retry_in{0};
};

/// What step() reports: links coming and going, new incoming messages (never a
/// duplicate), ticks of ours that moved forward (or that concern messages this
/// device does not know), presence, errors (a refused send refers to its id),
/// changes of our groups, and call signals (their payload opened: the data the
/// peer sent).
using update = std::variant<link_up, link_down, message, receipt, presence, server_error,
                            group_notice, call_event>;

/// One user's device, kept connected. Not copyable; single-threaded.
class reconnecting_client {
public:
  reconnecting_client(device_store& store, options server, std::string user,
                      identity id, reconnect_options opts = {});

  /// Logs out if connected.
  ~reconnecting_client();

  reconnecting_client(const reconnecting_client&) = delete;
  reconnecting_client& operator=(const reconnecting_client&) = delete;

  /// Puts a message in the outbox (committed when this returns) and, when
  /// connected and the window allows, on the wire.
  outcome<stored_message> send(const std::string& to, const std::string& body);

  /// The same for a message to every member of `group` (its 16-byte id). It is
  /// sealed for the group as its home node describes it when it goes out.
  outcome<stored_message> send_group(const std::string& group, const std::string& body);

  /// Sends a call signal now (not queued: a signal that cannot go now is
  /// worthless later); `data` is sealed for `peer` like a message.
  outcome<done> call_signal(const std::string& call, const std::string& peer,
                            wire::CallSignalKind kind, const std::string& data);

  /// The group as its home node has it now; remembered on the device.
  outcome<group_info> refresh_group(const std::string& group);

  /// Remembers what a group request answered.
  outcome<done> remember_group(const group_info& info);

  /// Connects when the backoff allows, reads and records what arrives, posts
  /// the outbox; returns once something happened or `wait` passed. Fails only
  /// when going on makes no sense without the caller: the device store failed
  /// (the link is dropped so the node keeps what was not recorded), or the node
  /// refused the login for good (unknown user, bad signature).
  outcome<std::vector<update>> step(std::chrono::milliseconds wait);

  /// Marks incoming messages read, here and (when connected) on the node.
  /// Read acknowledgements the node may not have got are sent again after
  /// reconnects until a pong that follows them comes back.
  outcome<done> mark_read(const std::string& peer, const std::vector<std::string>& ids);

  /// Subscribes to presence changes of `users`, again after every reconnect.
  void watch(const std::vector<std::string>& users);

  /// The connection, when logged in: for requests this class does not wrap
  /// (last_seen). A failure there is noticed by the next step().
  connection* link() noexcept {
    return connected() ? &conn_ : nullptr;
  }

  bool connected() const noexcept {
    return logged_in_ && conn_.is_open();
  }

  /// The socket while connected (for poll), else -1.
  int fd() const noexcept {
    return connected() ? conn_.fd() : -1;
  }

  /// Whether input waits that poll() on fd() would not show (TLS buffers).
  bool has_buffered_input() const {
    return connected() && conn_.has_buffered_input();
  }

  /// Until the next connection attempt; zero when connected or due.
  std::chrono::milliseconds until_next_attempt() const;

  /// Drops the link as if it had died; the next attempt follows the backoff.
  void disconnect(const std::string& why);

  /// Logs out and closes; step() connects again later unless the caller stops.
  void logout();

  /// Sends on the wire without a sent tick yet.
  size_t in_flight() const noexcept {
    return in_flight_.size();
  }

  const std::string& user() const noexcept {
    return user_;
  }

  device_store& store() noexcept {
    return store_;
  }

private:
  using clock = std::chrono::steady_clock;

  struct posted {
    int64_t seq;
    std::string peer;
    std::string id;
  };

  /// Read acknowledgements written before heartbeat number `heartbeat`.
  struct reads_sent {
    uint64_t heartbeat;
    std::string peer;
    std::vector<std::string> ids;
  };

  /// Connects and logs in; on success re-sends what the node may lack.
  outcome<done> open_link(std::vector<update>& out);

  /// Records a batch of events in one transaction, then acknowledges it.
  outcome<done> process(std::vector<event>& batch, std::vector<update>& out);

  /// Posts queued messages while the window has room.
  void post_more(std::vector<update>& out);
  /// What goes on the wire for an outbox message: sealed once, then repeated.
  /// A group message's starts with the epoch it was sealed for (8 bytes,
  /// big-endian).
  outcome<std::string> wire_payload(const stored_message& m);

  /// The group to seal for: the device's copy unless a notice made it stale.
  outcome<group_info> group_for_sending(const std::string& group_hex);

  /// Probes a silent link; drops a dead one. Returns false if it dropped it.
  bool check_liveness(std::vector<update>& out);

  /// Writes read acknowledgements and a heartbeat whose pong confirms them.
  void send_reads(const std::string& peer, const std::vector<std::string>& ids);

  /// Clears the flag of read acknowledgements whose pong came back.
  void confirm_reads();

  void lose_link(failure why, std::vector<update>& out);

  std::chrono::milliseconds probe_interval() const;

  device_store& store_;
  connection conn_;
  std::string user_;
  identity id_;
  reconnect_options opts_;
  backoff backoff_;

  bool logged_in_ = false;
  clock::time_point next_attempt_;
  clock::time_point last_probe_;
  size_t window_ = 1;
  std::deque<posted> in_flight_;     // in posting order
  int64_t last_posted_ = 0;          // outbox seq posted last on this link
  std::deque<reads_sent> reads_sent_;
  std::vector<std::string> watched_;
  std::vector<update> pending_;      // reported by the next step()
};

} // namespace parley::client
