// Hex for ids inside the node: a group's or a call's 16-byte id becomes the 32
// lower-case hex digits it is hashed, stored and logged by.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace parley {

/// Lower-case hex of `bytes`.
std::string hex_encode(std::string_view bytes);

/// The bytes of lower-case or upper-case hex; nothing if it is not hex.
std::optional<std::string> hex_decode(std::string_view hex);

} // namespace parley
