// Names of the wire's error codes, for logs and for parley-chat's output.
#pragma once

#include "schema/protocol.capnp.h"

#include <string_view>

namespace parley {

/// The code's name as the schema spells it, e.g. "nameTaken".
std::string_view to_string(wire::ErrorCode code) noexcept;

/// Whether the same request may succeed if sent again later.
bool retryable(wire::ErrorCode code) noexcept;

/// Whether a send refused with this code is never stored, however often it is
/// sent again. Other refusals of a send may pass (and some may have stored it).
bool send_refused_for_good(wire::ErrorCode code) noexcept;

} // namespace parley
