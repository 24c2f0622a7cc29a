#include "schema/errors.hpp"

#include <capnp/schema.h>

namespace parley {

std::string_view to_string(wire::ErrorCode code) noexcept {
  // The schema is the one list of codes: read the names from it.
  auto enumerants = capnp::Schema::from<wire::ErrorCode>().getEnumerants();
  auto index = static_cast<uint16_t>(code);
  if (index >= enumerants.size())
    return "unknown";
  auto name = enumerants[index].getProto().getName();
  return {name.cStr(), name.size()};
}

bool retryable(wire::ErrorCode code) noexcept {
  switch (code) {
    case wire::ErrorCode::UNAVAILABLE:
    case wire::ErrorCode::SHUTTING_DOWN:
    case wire::ErrorCode::TOO_MANY_PENDING:
    case wire::ErrorCode::RATE_LIMITED:
    case wire::ErrorCode::INBOX_FULL:
    case wire::ErrorCode::TOO_MANY_CONNECTIONS:
      return true;
    default:
      return false;
  }
}

bool send_refused_for_good(wire::ErrorCode code) noexcept {
  switch (code) {
    case wire::ErrorCode::UNKNOWN_USER:
    case wire::ErrorCode::INVALID_NAME:
    case wire::ErrorCode::PAYLOAD_TOO_LARGE:
    case wire::ErrorCode::INVALID_ID:
    case wire::ErrorCode::UNKNOWN_GROUP:
    case wire::ErrorCode::NOT_GROUP_MEMBER:
      return true;
    default:
      return false;
  }
}

} // namespace parley
