// The records the store persists, each with exactly one encode and one decode.
// Variable records are Cap'n Proto (schema/records.capnp); fixed-size ones use a
// little-endian layout spelled out here.
#pragma once

#include "actors/group/group_messages.hpp"
#include "actors/messages.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley {

struct user_record {
  std::string identity_key;
  int64_t registered_at = 0;
};

std::string encode(const user_record& x);
std::optional<user_record> decode_user(std::string_view bytes);

/// An inbox item without its seq, which is part of the key.
std::string encode_inbox(const inbox_item& x);
std::optional<inbox_item> decode_inbox(std::string_view bytes, uint64_t seq);

std::string encode(const forwarded_receipt& x);
std::optional<forwarded_receipt> decode_forward(std::string_view bytes);

/// Where a message stands at its recipient's home; kept after the message is
/// deleted so that a retransmission is still recognised.
enum class message_state : uint8_t { stored = 0, delivered = 1, read = 2 };

struct message_status {
  uint64_t seq = 0;        // of the inbox item while it exists
  message_state state = message_state::stored;  // on disk: stored or read (a
                           // stored one whose item is gone was delivered)
  int64_t time = 0;        // when it was stored
  std::string group{};     // a group message: its group (hex); its receipts go
                           // to the group's home, not to the sender
};

/// Layout: seq (8) | state (1) | time (8), little-endian, then for a group
/// message the group's 32 hex digits.
std::string encode(const message_status& x);
std::optional<message_status> decode_status(std::string_view bytes);

// -- groups (actors/store/groups.hpp) ---------------------------------------------

std::string encode(const group_state& x);
/// The group's hex id is part of the key; `group` is put back.
std::optional<group_state> decode_group(std::string_view bytes, std::string_view group);

std::string encode(const group_message_entry& x);
std::optional<group_message_entry> decode_group_message(std::string_view bytes);

/// How many recipients a group message has and how many of them have it
/// delivered and read.
struct group_counts {
  uint64_t recipients = 0;
  uint64_t delivered = 0;
  uint64_t read = 0;
};

/// Layout: recipients (8) | delivered (8) | read (8), little-endian.
std::string encode(const group_counts& x);
std::optional<group_counts> decode_group_counts(std::string_view bytes);

/// One recipient's receipt for a group message. Layout: state (1) | time (8).
std::string encode_member_receipt(uint8_t state, int64_t time);
std::optional<std::pair<uint8_t, int64_t>> decode_member_receipt(std::string_view bytes);

/// Layout: 8 bytes little-endian. Used for seq counters and last-seen times.
std::string encode_u64(uint64_t x);
std::optional<uint64_t> decode_u64(std::string_view bytes);

} // namespace parley
