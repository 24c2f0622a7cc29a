// The messages parley's actors exchange: atoms and the structs they carry.
//
// Every struct here has an inspect() overload and is registered under the same
// name in node_config, so it can cross nodes as well as mailboxes.
#pragma once

#include "schema/protocol.capnp.h"

#include <caf/actor.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace parley {

// -- atoms ---------------------------------------------------------------------

using register_atom = caf::atom_constant<caf::atom("register")>;
using user_key_atom = caf::atom_constant<caf::atom("userkey")>;
using append_atom = caf::atom_constant<caf::atom("append")>;
/// The answer to a send (an append, a group send), a message to the hub:
/// (sent_atom, session id, ticket, int64 time | error).
using sent_atom = caf::atom_constant<caf::atom("sent")>;
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
using deliver_atom = caf::atom_constant<caf::atom("deliver")>;
using ack_atom = caf::atom_constant<caf::atom("ack")>;
using ack_receipts_atom = caf::atom_constant<caf::atom("ackrcpts")>;
using verify_atom = caf::atom_constant<caf::atom("verify")>;
using attach_atom = caf::atom_constant<caf::atom("attach")>;
using kick_atom = caf::atom_constant<caf::atom("kick")>;
using online_atom = caf::atom_constant<caf::atom("online")>;
using offline_atom = caf::atom_constant<caf::atom("offline")>;
using heartbeat_atom = caf::atom_constant<caf::atom("heartbeat")>;
using last_seen_atom = caf::atom_constant<caf::atom("lastseen")>;
using watch_atom = caf::atom_constant<caf::atom("watch")>;
using presence_atom = caf::atom_constant<caf::atom("presence")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;
using inbox_depth_atom = caf::atom_constant<caf::atom("inboxdepth")>;
using stop_atom = caf::atom_constant<caf::atom("stop")>;
using receipts_atom = caf::atom_constant<caf::atom("receipts")>;
/// (stats_atom) -> std::string: an actor's own figures as a JSON object.
using stats_atom = caf::atom_constant<caf::atom("stats")>;
using admin_atom = caf::atom_constant<caf::atom("admin")>;
using drain_atom = caf::atom_constant<caf::atom("drain")>;
using loglevel_atom = caf::atom_constant<caf::atom("loglevel")>;
using publish_keys_atom = caf::atom_constant<caf::atom("pubkeys")>;
using fetch_bundle_atom = caf::atom_constant<caf::atom("bundle")>;
using prekeys_low_atom = caf::atom_constant<caf::atom("prekeyslow")>;
/// A session has ended: a session tells its listener, the registry tells the
/// store (instead of a monitor per session in each).
using session_ended_atom = caf::atom_constant<caf::atom("sessended")>;

// -- payloads --------------------------------------------------------------------

/// The actors of one node that others talk to.
struct node_actors {
  caf::actor store;
  caf::actor registry;
  caf::actor presence;
  caf::actor admin;
  caf::actor groups{};  // the group directory (actors/group/directory.hpp)
  caf::actor calls{};   // the call actor (actors/call/call.hpp)
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, node_actors& x) {
  return f(caf::meta::type_name("parley.node_actors"), x.store, x.registry,
           x.presence, x.admin, x.groups, x.calls);
}

/// A Send as the recipient's home store receives it.
struct outgoing_message {
  std::string from;
  std::string to;
  std::string id;       // 16 bytes, chosen by the sender's client
  std::string payload;  // opaque
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, outgoing_message& x) {
  return f(caf::meta::type_name("parley.outgoing_message"), x.from, x.to, x.id,
           x.payload);
}

/// What an inbox item is.
enum class item_kind : uint8_t { message = 0, receipt = 1, notice = 2 };

/// One item of a user's inbox, as the store pushes it to the user's session.
struct inbox_item {
  uint64_t seq = 0;       // the recipient's inbox order
  uint8_t kind = 0;       // item_kind
  uint8_t state = 0;      // receipts: wire::ReceiptState; notices: wire::GroupAction
  std::string peer;       // messages: the sender; receipts: who acknowledged
                          // (empty for a group's aggregate); notices: who acted
  std::string id;         // notices: a 16-byte id made of the group's epoch
  std::string payload;    // messages only
  int64_t time = 0;       // ms since the epoch
  std::string group{};    // group messages, aggregate receipts, notices: hex id
  // Notices only: the group's name and epoch after the change, whom it concerns.
  std::string name{};
  uint64_t epoch = 0;
  std::vector<std::string> members{};
  // Receipts only: more messages with the same tick from the same peer.
  std::vector<std::string> more_ids{};

  item_kind what() const noexcept {
    return static_cast<item_kind>(kind);
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, inbox_item& x) {
  return f(caf::meta::type_name("parley.inbox_item"), x.seq, x.kind, x.state,
           x.peer, x.id, x.payload, x.time, x.group, x.name, x.epoch, x.members,
           x.more_ids);
}

using inbox_items = std::vector<inbox_item>;

/// What a forwarded receipt is for.
enum class receipt_kind : uint8_t {
  direct = 0,     // a receipt for `to`, the sender of a message to `from`
  member = 1,     // a group member's receipt, for the group's home (its ledger)
  aggregate = 2,  // a group's aggregate receipt for `to`, the message's sender
};

/// A delivered or read receipt on its way from the recipient's home store to the
/// home store of the message's sender (or, for a group message, of the group),
/// when those are different nodes.
struct forwarded_receipt {
  std::string to;     // the sender of the message, who gets the receipt
  std::string from;   // its recipient, whose device acknowledged it (aggregate:
                      // "#" and the group's hex id)
  std::string id;
  uint8_t state = 0;  // wire::ReceiptState
  int64_t time = 0;
  uint8_t kind = 0;   // receipt_kind
  std::string group{};  // member and aggregate receipts: the group's hex id

  receipt_kind what() const noexcept {
    return static_cast<receipt_kind>(kind);
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, forwarded_receipt& x) {
  return f(caf::meta::type_name("parley.forwarded_receipt"), x.to, x.from, x.id,
           x.state, x.time, x.kind, x.group);
}

/// A user's keys for starting an end-to-end session with them; the node stores
/// the prekeys as opaque records.
struct prekey_bundle {
  std::string user;
  std::string identity_key;
  std::string signed_prekey;
  std::string one_time_prekey;  // empty when the supply is exhausted
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, prekey_bundle& x) {
  return f(caf::meta::type_name("parley.prekey_bundle"), x.user, x.identity_key,
           x.signed_prekey, x.one_time_prekey);
}

/// A user's presence as the presence actor knows it.
struct presence_info {
  std::string user;
  bool online = false;
  int64_t last_seen = 0;  // ms since the epoch; 0 if never seen
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, presence_info& x) {
  return f(caf::meta::type_name("parley.presence_info"), x.user, x.online,
           x.last_seen);
}

/// Last-seen times to persist: (user, ms since the epoch).
using last_seen_batch = std::vector<std::pair<std::string, int64_t>>;

// -- errors ----------------------------------------------------------------------

/// The CAF error category of wire error codes: actors answer requests with these
/// and sessions turn them into error frames unchanged.
constexpr caf::atom_value error_category = caf::atom("parley");

inline caf::error make_error(wire::ErrorCode code) {
  return caf::error(static_cast<uint8_t>(code), error_category);
}

/// `rateLimited`, saying how many milliseconds to wait before trying again.
inline caf::error rate_limited(uint32_t wait_ms) {
  return caf::error(static_cast<uint8_t>(wire::ErrorCode::RATE_LIMITED), error_category,
                    caf::make_message(wait_ms));
}

/// The wait a `rate_limited` error carries; 0 for any other error.
uint32_t retry_after_ms(const caf::error& err) noexcept;

/// The wire code for an error a request ended with: ours unchanged, a timeout
/// or an unreachable actor as `unavailable`, anything else as `internal`.
wire::ErrorCode to_wire_code(const caf::error& err) noexcept;

} // namespace parley
