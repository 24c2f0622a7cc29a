// The byte ranges of HTTP as parley-media speaks them (RFC 9110, section 14):
// a download's Range header and an upload's Content-Range. Pure functions, no
// I/O, so the edge cases are tested on their own.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace parley::media {

/// Bytes [first, last] of a blob, both inclusive.
struct byte_range {
  uint64_t first = 0;
  uint64_t last = 0;

  uint64_t length() const noexcept {
    return last - first + 1;
  }
};

/// What a Range header asks of a blob of `size` bytes.
struct range_request {
  enum class kind {
    whole,          ///< no Range, or one this server ignores (several ranges, other units)
    partial,        ///< one satisfiable range: answer 206 with `range`
    unsatisfiable,  ///< answer 416 with Content-Range: bytes */size
  };
  kind what = kind::whole;
  byte_range range;
};

/// Reads `bytes=a-b`, `bytes=a-` and `bytes=-n` against a blob of `size` bytes.
/// A last byte past the end is clipped, as RFC 9110 says. Anything else
/// (several ranges, a syntax error, other units) is ignored: the whole blob.
range_request parse_range(std::string_view header, uint64_t size);

/// An upload's Content-Range: `bytes a-b/total`.
struct content_range {
  byte_range range;
  uint64_t total = 0;
};

/// Reads `bytes a-b/total` with a <= b < total; nothing if it is anything else.
std::optional<content_range> parse_content_range(std::string_view header);

} // namespace parley::media
