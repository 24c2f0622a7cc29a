// The messages of groups: what a session asks a group's home node, what a group
// actor hands the stores of its members, and what the group's home store keeps.
//
// A group is named inside the cluster by the lower-case hex of its 16-byte id
// (32 characters), which fits every place a user name fits (store keys, routes).
// Where a group stands in for a user (the dedup key of its notices, the origin
// of its aggregate receipts) it is "#" and the hex, which no user name can be.
//
// Every struct has an inspect() overload and is registered in node_config: they
// cross nodes.
#pragma once

#include "actors/messages.hpp"

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace parley {

// -- atoms ---------------------------------------------------------------------

using group_atom = caf::atom_constant<caf::atom("group")>;
using group_send_atom = caf::atom_constant<caf::atom("groupsend")>;
using fanout_atom = caf::atom_constant<caf::atom("fanout")>;
using ledger_atom = caf::atom_constant<caf::atom("ledger")>;
using group_load_atom = caf::atom_constant<caf::atom("groupload")>;
using group_save_atom = caf::atom_constant<caf::atom("groupsave")>;
using message_info_atom = caf::atom_constant<caf::atom("msginfo")>;
using known_users_atom = caf::atom_constant<caf::atom("knownusers")>;

// -- ids -------------------------------------------------------------------------

/// Whether `hex` is a group id as the cluster names it: 32 lower-case hex digits.
bool valid_group_id(std::string_view hex) noexcept;

/// "#" and the group's hex id: the group where a user name would stand.
inline std::string group_peer(std::string_view group) {
  std::string out = "#";
  out.append(group);
  return out;
}

/// The 16-byte id of the notice that took a group to `epoch`.
std::string notice_id(uint64_t epoch);

// -- the group -------------------------------------------------------------------

struct group_member {
  std::string user;
  bool admin = false;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, group_member& x) {
  return f(caf::meta::type_name("parley.group_member"), x.user, x.admin);
}

/// A change of a group whose notice is not yet in every recipient's inbox.
struct pending_notice {
  uint64_t epoch = 0;  // the epoch the change made; names the notice
  std::string by;
  uint8_t action = 0;  // wire::GroupAction
  std::vector<std::string> members;     // whom it concerns
  std::vector<std::string> recipients;  // who is told
  int64_t time = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pending_notice& x) {
  return f(caf::meta::type_name("parley.pending_notice"), x.epoch, x.by, x.action,
           x.members, x.recipients, x.time);
}

/// A group as its home node keeps it.
struct group_state {
  std::string group;  // hex id
  std::string name;
  uint64_t epoch = 0;  // counts changes, from 1 at creation
  std::vector<group_member> members;
  std::string created_by;
  int64_t created_at = 0;
  std::vector<pending_notice> pending;  // the home node's business only

  /// The member entry of `user`, or nullptr.
  const group_member* find(std::string_view user) const noexcept;
  group_member* find(std::string_view user) noexcept;

  bool is_admin(std::string_view user) const noexcept {
    auto m = find(user);
    return m != nullptr && m->admin;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, group_state& x) {
  return f(caf::meta::type_name("parley.group_state"), x.group, x.name, x.epoch,
           x.members, x.created_by, x.created_at, x.pending);
}

/// What a group request asks for (wire GroupRequest's union).
enum class group_op : uint8_t { create, add, remove, leave, query, promote };

/// A GroupRequest on its way to the group's home node.
struct group_request {
  std::string group;  // hex id
  std::string user;   // who asks (logged in)
  uint8_t op = 0;     // group_op
  std::string name;   // create
  std::vector<std::string> members;  // create, add, remove, promote

  group_op what() const noexcept {
    return static_cast<group_op>(op);
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, group_request& x) {
  return f(caf::meta::type_name("parley.group_request"), x.group, x.user, x.op,
           x.name, x.members);
}

/// A GroupSend on its way to the group's home node.
struct group_send {
  std::string group;
  std::string from;
  std::string id;       // 16 bytes
  uint64_t epoch = 0;   // the epoch the payload was sealed for
  std::string payload;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, group_send& x) {
  return f(caf::meta::type_name("parley.group_send"), x.group, x.from, x.id,
           x.epoch, x.payload);
}

// -- fan-out and ledger ----------------------------------------------------------

/// One batch of a fan-out: `item` (a group message or notice) for each of
/// `recipients`, all homed on the store it goes to. The payload travels once
/// per batch, not once per member.
struct group_fanout {
  std::vector<std::string> recipients;
  inbox_item item;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, group_fanout& x) {
  return f(caf::meta::type_name("parley.group_fanout"), x.recipients, x.item);
}

/// A group message at the group's home: when it was sent and to whom.
struct group_message_entry {
  int64_t time = 0;
  std::vector<std::string> recipients;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, group_message_entry& x) {
  return f(caf::meta::type_name("parley.group_message_entry"), x.time, x.recipients);
}

/// Where a group message stands with one recipient.
struct recipient_state {
  std::string user;
  uint8_t state = 0;  // wire::ReceiptState: sent until a receipt came
  int64_t time = 0;   // of that receipt; 0 while sent
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, recipient_state& x) {
  return f(caf::meta::type_name("parley.recipient_state"), x.user, x.state, x.time);
}

/// The answer to a MessageInfoRequest.
struct message_info {
  int64_t time = 0;
  std::vector<recipient_state> recipients;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, message_info& x) {
  return f(caf::meta::type_name("parley.message_info"), x.time, x.recipients);
}

} // namespace parley
