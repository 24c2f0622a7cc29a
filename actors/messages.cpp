#include "actors/messages.hpp"

#include <caf/sec.hpp>

namespace parley {

wire::ErrorCode to_wire_code(const caf::error& err) noexcept {
  if (err.category() == error_category)
    return static_cast<wire::ErrorCode>(err.code());
  if (err.category() == caf::atom("system")) {
    switch (static_cast<caf::sec>(err.code())) {
      case caf::sec::request_timeout:
      case caf::sec::request_receiver_down:
      case caf::sec::no_route_to_receiving_node:
        return wire::ErrorCode::UNAVAILABLE;
      default:
        break;
    }
  }
  return wire::ErrorCode::INTERNAL;
}

uint32_t retry_after_ms(const caf::error& err) noexcept {
  if (to_wire_code(err) != wire::ErrorCode::RATE_LIMITED
      || !err.context().match_elements<uint32_t>())
    return 0;
  return err.context().get_as<uint32_t>(0);
}

} // namespace parley
