// Message ids: 16 random bytes chosen by the sending client, shown as hex.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace parley {

/// A fresh random 16-byte id.
std::string new_message_id();

/// Lower-case hex of arbitrary bytes.
std::string to_hex(std::string_view bytes);

/// The bytes of a hex string, or nothing if it is not hex.
std::optional<std::string> from_hex(std::string_view hex);

} // namespace parley
