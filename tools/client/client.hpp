// parley's client library: one blocking connection to a node, speaking the wire
// protocol of schema/protocol.capnp. Used by parley-chat and the tests.
//
// Calls that wait (register, login, send, last_seen) read frames until their
// answer comes; whatever else arrives meanwhile (messages, receipts, presence)
// is queued and handed out by next_event, in arrival order. While it waits, the
// client sends heartbeats at the interval the node asked for. Connecting and
// writing are bounded by the call timeout too, so a dead link never blocks a
// caller for good; reconnecting_client (reconnecting_client.hpp) builds
// reconnects and a local store on top of it.
#pragma once

#include "schema/protocol.capnp.h"
#include "tools/client/keystore.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace parley {

class frame_reader;

namespace client {

class tls_channel;

// -- events from the node ---------------------------------------------------------

struct message {
  uint64_t seq = 0;
  std::string from;
  std::string id;
  std::string payload;
  int64_t server_time = 0;
  std::string group{};  // a group message: the group's 16-byte id; else empty
};

struct receipt {
  uint64_t seq = 0;  // 0 for `sent`, which needs no acknowledgement; ticks
                     // acknowledged together share one seq
  std::string id;
  std::string peer;  // empty for a group message's tick
  wire::ReceiptState state = wire::ReceiptState::SENT;
  int64_t time = 0;
  std::string group{};  // a group message's tick (the aggregate): its 16-byte id
};

struct presence {
  std::string user;
  bool online = false;
  int64_t last_seen = 0;
};

struct server_error {
  wire::ErrorCode code = wire::ErrorCode::INTERNAL;
  std::string message;
  std::string refers_to;
  uint32_t retry_after_ms = 0;
};

/// The node asks this user to publish more one-time prekeys.
struct prekeys_low {
  uint32_t remaining = 0;
};

/// A change of a group this user belongs (or belonged) to; acknowledge its seq
/// with ack_receipts.
struct group_notice {
  uint64_t seq = 0;
  std::string group;  // 16 bytes
  std::string name;
  uint64_t epoch = 0;
  std::string by;
  wire::GroupAction action = wire::GroupAction::CREATED;
  std::vector<std::string> members;
  int64_t time = 0;
};

/// A call signal from `peer` (payload as it travelled: sealed, when the sender
/// encrypts end to end).
struct call_event {
  std::string call;  // 16 bytes
  std::string peer;
  wire::CallSignalKind kind = wire::CallSignalKind::OFFER;
  std::string payload;
};

using event = std::variant<message, receipt, presence, server_error, prekeys_low,
                           group_notice, call_event>;

/// A group as its home node answers a group request.
struct group_info {
  struct member {
    std::string user;
    bool admin = false;
  };
  std::string group;  // 16 bytes
  std::string name;
  uint64_t epoch = 0;
  std::vector<member> members;

  bool has(const std::string& user) const;
};

/// Where one of our group messages stands with each recipient.
struct message_info {
  struct recipient {
    std::string user;
    wire::ReceiptState state = wire::ReceiptState::SENT;
    int64_t time = 0;
  };
  std::string group;
  std::string id;
  int64_t time = 0;
  std::vector<recipient> recipients;
};

/// TURN relay credentials (coturn REST API).
struct turn_info {
  std::string username;
  std::string password;
  uint32_t ttl_seconds = 0;
  std::vector<std::string> uris;
};

/// What the node holds of this user's prekeys.
struct keys_published {
  uint32_t remaining = 0;
  bool has_signed_prekey = false;
};

/// Another user's keys for starting an end-to-end session (opaque records).
struct bundle_info {
  std::string user;
  std::string identity_key;
  std::string signed_prekey;
  std::string one_time_prekey;  // empty when that user's supply ran out
};

// -- outcomes ---------------------------------------------------------------------

/// Why a call failed.
struct failure {
  enum class kind {
    transport,  ///< connecting, reading or writing failed, or the node closed
    server,     ///< the node answered with an error frame (see `code`)
    timeout,    ///< no answer in time
    protocol,   ///< the node sent something this client does not understand
    local,      ///< a problem on this device (e.g. no key for the user)
  };
  kind what = kind::transport;
  wire::ErrorCode code = wire::ErrorCode::INTERNAL;
  std::string message;
  uint32_t retry_after_ms = 0;  // for server errors that say when to retry

  std::string describe() const;
};

/// A value or the failure that prevented it.
template <class T>
class outcome {
public:
  outcome(T value) : value_(std::move(value)) {}
  outcome(failure why) : failure_(std::move(why)) {}

  explicit operator bool() const noexcept {
    return value_.has_value();
  }
  T& operator*() {
    return *value_;
  }
  T* operator->() {
    return &*value_;
  }
  const failure& error() const {
    return *failure_;
  }

private:
  std::optional<T> value_;
  std::optional<failure> failure_;
};

struct done {};

struct welcome_info {
  std::string user;
  int64_t server_time = 0;
  uint32_t heartbeat_seconds = 0;
  uint32_t max_payload = 0;
  uint32_t max_pending_sends = 0;
};

/// A token for the media service (see media/token.hpp and docs/media.md).
struct media_grant {
  wire::MediaAction action = wire::MediaAction::DOWNLOAD;
  std::string sha256;   // 32 bytes: the blob it is for
  std::string token;
  int64_t expires = 0;  // ms since the epoch
  std::string url;      // where the node says the media service is; may be empty
};

// -- the connection ---------------------------------------------------------------

struct options {
  std::string host = "127.0.0.1";
  uint16_t port = 7000;
  std::chrono::milliseconds timeout{10000};  // for each waiting call, connect, write
  size_t max_frame = 1024 * 1024;            // the largest frame accepted
  int receive_buffer = 0;                    // SO_RCVBUF if > 0 (tests of slow readers)
  bool tls = false;         // TLS to the load balancer, verifying its certificate
  std::string ca_file;      // with tls: trust this CA file instead of the system's
};

class connection {
public:
  explicit connection(options opts);
  ~connection();

  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  outcome<done> connect();
  void close();
  bool is_open() const noexcept {
    return fd_ >= 0;
  }

  // -- requests that wait for their answer -----------------------------------------

  outcome<done> register_user(const std::string& user, const identity& id);
  outcome<welcome_info> login(const std::string& user, const identity& id);
  /// Sends a message with the given id and waits for its sent tick.
  outcome<receipt> send(const std::string& to, const std::string& id,
                        const std::string& payload);
  outcome<presence> last_seen(const std::string& user);
  /// Publishes this user's signed prekey (empty: keep it) and more one-time
  /// prekeys (both empty: only ask); answers what the node now holds.
  outcome<keys_published> publish_keys(const std::string& signed_prekey,
                                       const std::vector<std::string>& one_time_prekeys);
  /// Another user's bundle; consumes one of its one-time prekeys on the node.
  outcome<bundle_info> fetch_bundle(const std::string& user);
  /// A token to upload (`size` bytes for `recipients`) or download the blob
  /// `sha256` (32 bytes).
  outcome<media_grant> media_token(wire::MediaAction action, const std::string& sha256,
                                   uint64_t size = 0,
                                   const std::vector<std::string>& recipients = {});

  // Groups: every request names the group by its 16-byte id and is answered
  // with the group as its home node holds it.
  outcome<group_info> create_group(const std::string& group, const std::string& name,
                                   const std::vector<std::string>& members);
  outcome<group_info> add_members(const std::string& group,
                                  const std::vector<std::string>& members);
  outcome<group_info> remove_members(const std::string& group,
                                     const std::vector<std::string>& members);
  outcome<group_info> promote(const std::string& group,
                              const std::vector<std::string>& members);
  outcome<group_info> leave_group(const std::string& group);
  outcome<group_info> query_group(const std::string& group);

  /// Sends a group message sealed for `epoch` and waits for its sent tick.
  outcome<receipt> send_group(const std::string& group, const std::string& id,
                              uint64_t epoch, const std::string& payload);

  /// Each recipient's state of our group message `id`.
  outcome<message_info> message_info_of(const std::string& group, const std::string& id);

  outcome<turn_info> turn_credentials();

  /// Sends every message (to, id, payload), at most `window` unanswered at a
  /// time, and waits for every sent tick; the first refusal fails it.
  struct outgoing {
    std::string to;
    std::string id;
    std::string payload;
  };
  outcome<done> send_many(const std::vector<outgoing>& messages, size_t window);

  // -- requests without an answer ------------------------------------------------

  /// Sends a message without waiting; its tick or error arrives as an event.
  outcome<done> post(const std::string& to, const std::string& id,
                     const std::string& payload);
  outcome<done> ack(const std::string& peer, const std::vector<std::string>& ids,
                    wire::AckState state);
  outcome<done> ack_receipts(const std::vector<uint64_t>& seqs);
  /// Sends a group message without waiting; its tick or error arrives as an event.
  outcome<done> post_group(const std::string& group, const std::string& id,
                           uint64_t epoch, const std::string& payload);
  /// Sends a call signal; a refusal arrives as an error event referring to `call`.
  outcome<done> call(const std::string& call, const std::string& peer,
                     wire::CallSignalKind kind, const std::string& payload);
  outcome<done> heartbeat();
  outcome<done> watch(const std::vector<std::string>& users);
  outcome<done> logout();

  // -- events ----------------------------------------------------------------------

  /// The next event, waiting up to `wait`; nothing on timeout. A closed
  /// connection is a transport failure.
  outcome<std::optional<event>> next_event(std::chrono::milliseconds wait);

  /// Sends raw bytes: for tests that speak bad protocol on purpose.
  outcome<done> write_raw(const std::string& bytes);

  /// The socket, for poll() in interactive programs.
  /// Whether input waits that poll() on fd() would not show (TLS buffers).
  bool has_buffered_input() const;

  int fd() const noexcept {
    return fd_;
  }

  /// Whether frames were read and not yet handed out.
  bool has_queued() const noexcept {
    return !queue_.empty();
  }

  // -- liveness (for callers that watch the link themselves) ------------------------

  /// When bytes last arrived from the node (or the connection was made).
  std::chrono::steady_clock::time_point last_received() const noexcept {
    return last_read_;
  }

  /// Heartbeats written on this connection; the node answers each with one pong,
  /// in order, so pong number n answers heartbeat number n.
  uint64_t heartbeats_sent() const noexcept {
    return heartbeats_sent_;
  }

  uint64_t pongs_received() const noexcept {
    return pongs_received_;
  }

  /// The node's heartbeat interval from its welcome; zero before login.
  std::chrono::milliseconds heartbeat_interval() const noexcept {
    return heartbeat_every_;
  }

private:
  using clock = std::chrono::steady_clock;

  struct challenge {
    std::string nonce;
  };
  struct registered {
    std::string user;
  };
  struct pong {};
  struct keys_published_frame {
    keys_published info;
  };
  /// Anything a node sends, decoded.
  using incoming = std::variant<message, receipt, presence, server_error, challenge,
                                welcome_info, registered, pong, prekeys_low,
                                keys_published_frame, bundle_info, media_grant, group_notice,
                                call_event, group_info, message_info, turn_info>;

  /// Sends a GroupRequest filled by `fill` and waits for the group's state.
  template <class F>
  outcome<group_info> group_request(const std::string& group, F fill);

  template <class F>
  outcome<done> write_frame(F fill);

  /// Reads what is available until `deadline`, queueing decoded frames; true if
  /// something was queued.
  outcome<bool> pump(clock::time_point deadline);

  /// Removes and returns the first queued frame for which `match` holds, reading
  /// more until the call's timeout.
  template <class Match>
  outcome<incoming> wait_for(Match match);

  /// Waits for the answer of type T for which `mine` holds, or for an error
  /// about `refers_to` or about nothing in particular: the answer, or the
  /// failure (a server error among them).
  template <class T, class Mine>
  outcome<T> answer(const std::string& refers_to, Mine mine);

  /// For answer(): the first answer of its type.
  static constexpr auto any_answer = [](const auto&) { return true; };

  /// The sent tick of message `id`, or the error about it.
  outcome<receipt> sent_tick(const std::string& id);

  /// Sends a heartbeat if the node would otherwise hear nothing for too long.
  outcome<done> keep_alive();

  options opts_;
  int fd_ = -1;
  std::unique_ptr<tls_channel> tls_;
  std::unique_ptr<frame_reader> reader_;
  std::deque<incoming> queue_;
  std::chrono::milliseconds heartbeat_every_{0};
  clock::time_point last_write_;
  clock::time_point last_read_;
  uint64_t heartbeats_sent_ = 0;
  uint64_t pongs_received_ = 0;
};

} // namespace client
} // namespace parley
