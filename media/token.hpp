// Media tokens: what a chat node signs for a logged-in user and a media server
// checks, so that only that user uploads or downloads, and only what the token
// names. Nodes and media servers share the key (a file, parley.media-key-file on
// a node and --key-file on parley-media); nothing else is shared between them.
//
// A token is one line of text, so that it fits an Authorization header and a
// query string alike:
//
//   v1:<action>:<user>:<sha256>:<size>:<recipients>:<expires>:<mac>
//
//   action      "up" or "down"
//   user        who asked for it (the node's logged-in user)
//   sha256      lower-case hex of the blob's SHA-256 (its id and URL)
//   size        up: the blob's size in bytes; down: 0
//   recipients  up: comma-separated user names who will download it (may be
//               empty); down: empty
//   expires     Unix seconds; the token is refused from then on
//   mac         lower-case hex of HMAC-SHA256(key, "parley-media-token-v1\n" ‖
//               everything before ":<mac>")
//
// User names are [a-z0-9._-], so neither ':' nor ',' can occur inside a field.
// Checking a token is stateless: the media server keeps no token list.
#pragma once

#include "schema/hex.hpp"  // to_hex, from_hex: blob ids in URLs, paths and tokens

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace parley::media {

/// What a token allows.
enum class action : uint8_t { upload = 0, download = 1 };

/// "up" or "down".
std::string_view action_name(action a) noexcept;

/// What a token says; sha256 is the 32 raw bytes.
struct token_claims {
  action what = action::download;
  std::string user;
  std::string sha256;
  uint64_t size = 0;
  std::vector<std::string> recipients;
  int64_t expires = 0;  // Unix seconds
};

/// Why a token was refused.
enum class token_error : uint8_t {
  malformed,  ///< not a token of this format
  forged,     ///< the MAC does not match: not signed with our key, or altered
  expired,    ///< signed by us, but its time is up
};

std::string_view to_string(token_error e) noexcept;

/// The most recipients one upload token names (keeps tokens header-sized).
constexpr size_t max_token_recipients = 64;

/// The shared key. Not copyable by accident: it is a secret.
class token_key {
public:
  /// Reads the key from `path`: its text, trailing white space removed, at least
  /// 16 characters (the same rule as the cluster cookie). Nothing, with the
  /// reason in `error`, if it cannot.
  static std::optional<token_key> load(const std::string& path, std::string& error);

  explicit token_key(std::string secret);
  ~token_key();

  token_key(token_key&&) noexcept;
  token_key& operator=(token_key&&) noexcept;
  token_key(const token_key&) = delete;
  token_key& operator=(const token_key&) = delete;

  /// The token text for `claims`.
  std::string sign(const token_claims& claims) const;

  /// The claims of `token` if it is well-formed, signed with this key and not
  /// expired at `now` (Unix seconds).
  std::variant<token_claims, token_error> verify(std::string_view token,
                                                 int64_t now) const;

private:
  std::string mac_hex(std::string_view signed_part) const;

  std::string secret_;
};

} // namespace parley::media
