// Hex for ids: the node hashes, stores and logs a group's or a call's 16-byte
// id by its 32 lower-case hex digits; clients show ids the same way.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace parley {

/// Lower-case hex of `bytes`.
std::string to_hex(std::string_view bytes);

/// The value of one hex digit (either case), or -1.
int hex_value(char c);

/// The bytes of lower-case or upper-case hex; nothing if it is not hex.
std::optional<std::string> from_hex(std::string_view hex);

} // namespace parley
