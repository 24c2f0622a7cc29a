// The session: one per client connection, like an Erlang process per socket,
// though not an actor of its own: every connection of a node is held by one
// broker, the hub (node/listener.cpp), which owns a session_set and hands each
// session what concerns it. A broker per connection cost ≈ 1.2 KB more per
// logged-in user (docs/BENCHMARKS.md, row 48). Others address a session by
// session_ref (its hub and id).
//
// It reassembles and decodes frames, checks that the peer has proved who it is and
// stays within its limits, turns frames into messages for the store, registry and
// presence, and writes their answers and the user's inbox items back as frames.
// It holds no durable state: when it dies, nothing is lost.
//
// It runs on the middleman's multiplexer thread with every other broker, so it
// does only socket work; signatures are checked by the verifier pool and storage
// is the store's.
//
// Limits, each with its error code: unanswered sends (tooManyPending), messages
// and bytes a second (rateLimited, with the time to wait), login attempts
// (rateLimited, via the throttle).
//
// It closes the connection (after an error frame saying why) on a malformed or
// oversized frame, a bad login proof, no login within parley.login-timeout, too
// many missed heartbeats, an outgoing queue over parley.max-outgoing-bytes, a
// newer login of the same user, a logout, the loss of the link to its user's
// home node, or when the hub stops. As it ends it tells every actor it
// registered with (session_ended_atom): its home's registry, the presence
// actors it watched users at, the call actors it signalled.
#pragma once

#include "actors/call/call_messages.hpp"
#include "actors/call/turn.hpp"
#include "actors/cluster/routes.hpp"
#include "actors/config.hpp"
#include "actors/messages.hpp"
#include "actors/session/nonce_source.hpp"
#include "actors/session/presence_beats.hpp"
#include "actors/session/session_timers.hpp"
#include "media/token.hpp"

#include <caf/actor.hpp>
#include <caf/io/broker.hpp>
#include <caf/io/connection_handle.hpp>
#include <caf/io/system_messages.hpp>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace parley {

struct node_metrics;

/// The node's helpers a session uses: for logins, its tally, media and calls.
struct node_services {
  caf::actor verifier;  // checks login proofs
  caf::actor throttle;  // slows down login floods and guessing
  node_metrics* metrics = nullptr;  // the node's tally; outlives every session
  std::shared_ptr<const media::token_key> media_key;  // signs media tokens; may be null
  std::shared_ptr<const turn_config> turn{};  // TURN credentials; none: not offered
};

class session;

/// Every session of a node, held by the hub on its thread (CAF 0.17 runs all
/// brokers on the middleman's one multiplexer thread); not thread-safe.
class session_set {
public:
  /// `settings` must outlive the set.
  session_set(caf::io::broker* hub, const node_settings& settings,
              node_services services, routes_ptr routes);
  ~session_set();

  session_set(const session_set&) = delete;
  session_set& operator=(const session_set&) = delete;

  size_t size() const noexcept {
    return size_;
  }

  // -- the hub's connections -------------------------------------------------------

  /// A session for a connection the hub accepted.
  void open(caf::io::connection_handle hdl);
  void on_data(const caf::io::new_data_msg& msg);
  void on_transferred(const caf::io::data_transferred_msg& msg);
  void on_closed(caf::io::connection_handle hdl);

  // -- messages for one session (dropped when it has gone) -------------------------

  void deliver(uint64_t id, const inbox_items& items);
  /// The store's answer to a send (its ticket): stored at `time`, or refused.
  void sent(uint64_t id, uint64_t ticket, int64_t time);
  void refused(uint64_t id, uint64_t ticket, const caf::error& err);
  void prekeys_low(uint64_t id, uint32_t remaining);
  void presence(uint64_t id, const presence_info& info);
  void call(uint64_t id, const call_signal& signal);
  void kick(uint64_t id, uint8_t code);
  /// Its figures as a JSON object; nothing when it has gone.
  std::optional<std::string> stats(uint64_t id);

  // -- every session ---------------------------------------------------------------

  /// A new cluster snapshot: a session whose user's home link went closes.
  void set_routes(routes_ptr routes);
  /// Tells every client the node is stopping, and closes.
  void stop_all();
  /// A JSON array of every session's figures.
  std::string stats_all();
  /// Runs the login deadlines and liveness checks that are due.
  void fire_due_timers();
  /// Sends presence the heartbeats gathered since the last call.
  void send_heartbeats();
  /// (flush_atom) to the hub: writes what this turn's messages queued.
  void write_scheduled();
  /// How often the hub should call fire_due_timers and send_heartbeats.
  session_timers::clock::duration beat() const noexcept {
    return timers_.beat();
  }

private:
  friend class session;

  /// The session with `id`, if it is still there.
  session* find(uint64_t id) noexcept;

  /// Calls `f(session)` for the session with `id`, if still there, and lets
  /// it go if it closed meanwhile; false if it was not there.
  template <class F>
  bool visit(uint64_t id, F&& f);

  /// Writes `id`'s frames once this turn's messages are handled.
  void schedule_write(uint64_t id);

  void erase(session& s);

  caf::io::broker* hub_;
  const node_settings& settings_;
  const node_services services_;
  routes_ptr routes_;
  session_timers timers_;  // login deadlines and liveness checks
  presence_beats beats_;   // heartbeats for presence
  nonce_source nonces_;    // login challenges, liveness jitter
  /// By the connection's socket, which the connection handle is in CAF 0.17:
  /// 8 B a connection, no hashing. An id is the socket in its low 32 bits and
  /// a serial number above, so a reused socket is a new id.
  std::vector<std::unique_ptr<session>> by_socket_;
  size_t size_ = 0;
  uint64_t next_serial_ = 1;
  std::vector<uint64_t> writes_;   // sessions with frames to write this turn
  std::vector<uint64_t> writing_;  // those being written (write_scheduled)
  bool write_sent_ = false;        // a flush_atom to the hub is on its way
  bool stopping_ = false;          // the hub is going: sessions tell nobody
};

} // namespace parley
