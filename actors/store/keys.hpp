// The store's RocksDB key layout. A one-byte tag says what a key holds; names
// are [a-z0-9._-] so 0x00 separates fields and sorts before every name byte.
//
//   "u" name                     user record (identity key)
//   "i" name 00 seq(8, BE)       one inbox item, in seq order
//   "q" name                     the next inbox seq of that user
//   "m" recipient 00 sender 00 id   a message's status at its recipient's home
//   "l" name                     last seen
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

/// The seq of an inbox key.
uint64_t inbox_seq(std::string_view key) noexcept;

std::string next_seq(std::string_view name);

std::string status(std::string_view recipient, std::string_view sender,
                   std::string_view id);

std::string last_seen(std::string_view name);

} // namespace parley::keys
