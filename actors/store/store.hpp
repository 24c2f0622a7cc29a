// The store actor: the only code that touches the node's RocksDB.
//
// For the users homed on this node it keeps their registration, their inbox
// (messages and receipts, numbered in the order they were stored), the status of
// every message sent to them (so retransmissions are recognised), and last seen.
//
// Group commit: every write request in the mailbox joins one WriteBatch; the batch
// is written (and its WAL fsynced with parley.fsync) when the actor reaches the
// flush it scheduled behind them, and only then are the requests answered. So a
// sender's single tick means the message is on disk. A batch's answers and pushes
// leave in one message to the store's courier (courier.hpp).
//
// Delivery: a session subscribes for its user's inbox. The store pushes committed
// items to it in seq order, at most parley.inbox-window items and about
// parley.inbox-window-bytes unacknowledged at a time; the rest wait on disk and
// are read in order as acknowledgements free the window.
// A user with 100,000 waiting items costs the node one window, not the inbox.
//
// Requests and their answers:
//   (register_atom, user, identity_key)        -> ok_atom | nameTaken
//   (user_key_atom, user)                      -> identity_key | unknownUser
//   (append_atom, outgoing_message, session id, ticket)  from a hub; answered
//                                                 with a message, not a response
//                                                 (see session.hpp): (sent_atom,
//                                                 session id, ticket, int64 time
//                                                 stored | unknownUser | inboxFull
//                                                 (parley.inbox-quota))
//   (subscribe_atom, user, session_ref)        -> pushes (deliver_atom, id, inbox_items)
//   (session_ended_atom, user, session_ref)       from the registry, which
//                                                 hears of every session's end:
//                                                 drops its subscription
//   (ack_atom, user, peer, ids, uint8 state)      state: message_state
//   (ack_receipts_atom, user, seqs)
//   (last_seen_atom, last_seen_batch)             persists last-seen times
//   (last_seen_atom, user)                     -> int64 ms (0: never) | unknownUser
//   (inbox_depth_atom, user)                   -> (uint64 items waiting,
//                                                  int64 oldest item's time, 0: none)
//   (stats_atom)                               -> JSON: mailbox, RocksDB figures
//   (publish_keys_atom, user, signed_prekey, one_time_prekeys)
//                                              -> (uint32 one-time prekeys left,
//                                                  bool has a signed prekey)
//                                                 | limitExceeded (parley.max-prekeys)
//   (fetch_bundle_atom, user)                  -> prekey_bundle, consuming one
//                                                 one-time prekey | noPrekeys
//   a subscribed session whose supply runs low gets (prekeys_low_atom, id, uint32)
//   (receipts_atom, forwarded_receipts)        -> ok_atom once they are durable
//   (routes_atom, routes_ptr)                     where users live (membership)
//   (stop_atom)                                -> ok_atom once all is written
//
// Cluster: a receipt for a user homed on another member is written to a durable
// queue in the same batch as the acknowledgement that made it, and sent to that
// member's store in order, one batch at a time, until it confirms; the receiving
// store takes each receipt state in once.
//
// It stops on an exit message, after writing what it has staged. A failed write
// answers the batch's requests with `internal` and restarts every subscription
// from its inbox's head, so nothing is claimed durable that is not.
#pragma once

#include "actors/config.hpp"
#include "actors/store/database.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <memory>

namespace parley {

struct node_metrics;

/// Counts a new run of the store on `db` (durably) and returns it, or "" in
/// `error` if it could not. Inbox seqs of run r start at r << 40: above every
/// seq an earlier run handed out, with no per-user counter to write.
std::optional<uint64_t> begin_store_run(database& db, std::string& error);

/// `settings` and `metrics` must outlive the store; `run` is begin_store_run's.
caf::actor spawn_store(caf::actor_system& sys, std::unique_ptr<database> db, uint64_t run,
                       const node_settings& settings, node_metrics& metrics);

} // namespace parley
