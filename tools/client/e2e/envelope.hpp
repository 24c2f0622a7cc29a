// The envelope: what an encrypting client puts into Send.payload. Either a
// prekey message (X3DH header plus the first ratchet message, sent by an
// initiator until it hears back) or a plain ratchet message. Versioned; the
// node carries it without looking inside (schema/e2e.capnp, Envelope).
#pragma once

#include "tools/client/e2e/ratchet.hpp"
#include "tools/client/e2e/x3dh.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace parley::e2e {

/// The only envelope version this code writes and reads.
inline constexpr uint8_t envelope_version = 1;

/// X3DH's initial message.
struct prekey_message {
  x3dh_header x3dh;
  ratchet_message message;
};

struct envelope {
  std::variant<prekey_message, ratchet_message> body;

  const prekey_message* prekey() const noexcept {
    return std::get_if<prekey_message>(&body);
  }
  const ratchet_message& message() const noexcept {
    if (auto p = prekey())
      return p->message;
    return *std::get_if<ratchet_message>(&body);
  }
};

std::string encode(const envelope& x);

/// malformed for bytes that are not an envelope (wrong key sizes included),
/// unsupported_version for an envelope of another version.
result<envelope> decode_envelope(std::string_view bytes);

} // namespace parley::e2e
