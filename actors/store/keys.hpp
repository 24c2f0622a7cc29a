// The store's RocksDB key layout. A one-byte tag says what a key holds; names
// are [a-z0-9._-] so 0x00 separates fields and sorts before every name byte.
//
//   "u" name                     user record (identity key)
//   "i" name 00 seq(8, BE)       one inbox item, in seq order
//   "q"                          the store's run: how often it started (inbox
//                                seqs of run r start at r << 40)
//   "m" recipient 00 sender 00 id   a message's status at its recipient's home
//   "l" name                     last seen
//   "f" member 00 seq(8, BE)     a receipt waiting to be forwarded to member
//   "k" name                     the user's signed prekey (opaque to the node)
//   "o" name 00 seq(8, BE)       one of the user's one-time prekeys, oldest first
//   "r" to 00 from 00 id         the highest receipt state taken in for a message
//                                whose receipt came from another member
//   "g" group                    a group homed here (group: 32 hex digits)
//   "x" group 00 sender 00 id    a group message: its time and recipients
//   "z" group 00 sender 00 id    its receipt counts (recipients, delivered, read)
//   "y" group 00 sender 00 id 00 member   one recipient's receipt state
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace parley::keys {

std::string user(std::string_view name);

std::string inbox(std::string_view name, uint64_t seq);

/// All of a user's inbox keys lie in [inbox_begin, inbox_end).
std::string inbox_begin(std::string_view name);
std::string inbox_end(std::string_view name);

/// The seq at the end of an inbox or forward key.
uint64_t inbox_seq(std::string_view key) noexcept;

std::string store_run();

std::string status(std::string_view recipient, std::string_view sender,
                   std::string_view id);

std::string last_seen(std::string_view name);

std::string forward(std::string_view member, uint64_t seq);

/// All of a member's forward keys lie in [forward_begin, forward_end).
std::string forward_begin(std::string_view member);
std::string forward_end(std::string_view member);

std::string signed_prekey(std::string_view name);

std::string one_time_prekey(std::string_view name, uint64_t seq);

/// All of a user's one-time prekey keys lie in [prekeys_begin, prekeys_end).
std::string prekeys_begin(std::string_view name);
std::string prekeys_end(std::string_view name);

std::string receipt_seen(std::string_view to, std::string_view from,
                         std::string_view id);

std::string group(std::string_view group);

std::string group_message(std::string_view group, std::string_view sender,
                          std::string_view id);

std::string group_counts(std::string_view group, std::string_view sender,
                         std::string_view id);

std::string group_receipt(std::string_view group, std::string_view sender,
                          std::string_view id, std::string_view member);

/// All of a group message's recipient states lie in
/// [group_receipts_begin, group_receipts_end); the member follows the prefix.
std::string group_receipts_begin(std::string_view group, std::string_view sender,
                                 std::string_view id);
std::string group_receipts_end(std::string_view group, std::string_view sender,
                               std::string_view id);

} // namespace parley::keys
