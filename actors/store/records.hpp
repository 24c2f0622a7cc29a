// The records the store persists, each with exactly one encode and one decode.
// Variable records are Cap'n Proto (schema/records.capnp); fixed-size ones use a
// little-endian layout spelled out here.
#pragma once

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
  message_state state = message_state::stored;
  int64_t time = 0;        // when it was stored
};

/// Layout: seq (8) | state (1) | time (8), little-endian.
std::string encode(const message_status& x);
std::optional<message_status> decode_status(std::string_view bytes);

/// Layout: 8 bytes little-endian. Used for seq counters and last-seen times.
std::string encode_u64(uint64_t x);
std::optional<uint64_t> decode_u64(std::string_view bytes);

} // namespace parley
