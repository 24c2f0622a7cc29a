// The session: one broker per client connection, like an Erlang process per
// socket.
//
// It reassembles and decodes frames, checks that the peer has proved who it is and
// stays within its limits, turns frames into messages for the store, registry and
// presence, and writes their answers and the user's inbox items back as frames.
// It holds no durable state: when it dies, nothing is lost.
//
// It runs on the middleman's multiplexer thread with every other session, so it
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
// home node, or (stop_atom) from the listener.
#pragma once

#include "actors/call/turn.hpp"
#include "actors/cluster/routes.hpp"
#include "actors/config.hpp"
#include "actors/session/presence_beats.hpp"
#include "actors/session/session_timers.hpp"
#include "media/token.hpp"

#include <caf/actor.hpp>
#include <caf/io/broker.hpp>
#include <caf/io/connection_handle.hpp>

#include <memory>
#include <utility>

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

/// What a listener's sessions share, on the I/O thread: the listener fires the
/// timers and sends the heartbeats once a beat. One pointer per session, and
/// the settings and services not copied into each: that keeps CAF's allocation
/// for a session within mimalloc's 1,536 B size class (docs/BENCHMARKS.md,
/// rows 34 and 36).
struct session_commons {
  /// `settings` must outlive every session.
  session_commons(const node_settings& settings, node_services services)
    : settings(settings),
      services(std::move(services)),
      timers(session_timers::beat_for(settings.heartbeat_interval)) {
    // nop
  }

  const node_settings& settings;
  const node_services services;
  session_timers timers;  // login deadlines and liveness checks
  presence_beats beats;   // heartbeats for presence
  caf::actor_addr listener;  // told by each session as it ends
};

/// Hands the accepted connection `hdl` from `acceptor` to a new session, which
/// finds each user's home node in `routes` (updated by (routes_atom, routes_ptr)),
/// sets its deadline and liveness checks in `commons->timers`, whose owner sends
/// it (deadline_atom) and (tick_atom) when they are due, and leaves its user's
/// heartbeats for presence in `commons->beats`.
caf::actor fork_session(caf::io::broker* acceptor, caf::io::connection_handle hdl,
                        const routes_ptr& routes,
                        std::shared_ptr<session_commons> commons);

} // namespace parley
