// Message ids: 16 random bytes chosen by the sending client, shown as hex.
#pragma once

#include "schema/hex.hpp"  // to_hex, from_hex: how ids are shown

#include <string>

namespace parley {

/// A fresh random 16-byte id.
std::string new_message_id();

} // namespace parley
