// The plaintext of a pairwise message (Content in schema/e2e.capnp): what the
// Double Ratchet encrypts between two users is tagged with what it is, so that
// nobody on the way can make one kind pass for another — a call signal for a
// chat message, a sender key for text.
#pragma once

#include "tools/client/e2e/result.hpp"
#include "tools/client/e2e/sender_key.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace parley::e2e {

/// A message as its author wrote it.
struct text_body {
  std::string text;
};

/// A call signal's payload, with its call and kind inside the encryption.
struct call_content {
  std::string call;   // 16 bytes
  uint16_t kind = 0;  // wire CallSignalKind
  std::string data;
};

using content = std::variant<text_body, sender_key_distribution, call_content>;

/// Holds a sender key's chain when it is one: the bytes are secret.
std::string encode(const content& x);
result<content> decode_content(std::string_view bytes);

} // namespace parley::e2e
