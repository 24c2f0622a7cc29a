// The content of a media message: a reference to an encrypted blob on the
// media service with what it takes to check and decrypt it (schema/media.capnp).
//
// A message's content is either text (UTF-8) or a media reference, which
// starts with the 4 bytes FF 'P' 'M' 01: no UTF-8 text starts with FF, so the
// two can never be confused. This encoding is the body only; the end-to-end
// layer (e2e_codec.hpp) seals it like any other body before it leaves.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::client {

/// Everything a recipient needs to fetch, check and decrypt a file.
struct media_ref {
  std::string id;               // SHA-256 of the blob, 32 bytes
  std::string mime_type;
  uint64_t size = 0;            // of the file
  uint64_t encrypted_size = 0;  // of the blob
  std::string key;              // 32 bytes
  std::string digest;           // SHA-256 of the file, 32 bytes
  uint32_t chunk_size = 0;      // file bytes per secretstream message
  std::string file_name;        // no folders; may be empty
  std::string thumbnail;        // may be empty
};

/// The marker a media payload starts with.
constexpr std::string_view media_marker{"\xff" "PM\x01", 4};

/// The payload bytes of a media message.
std::string encode_media_payload(const media_ref& ref);

/// Whether a payload is meant as media (it may still fail to decode).
bool is_media_payload(std::string_view payload) noexcept;

/// The reference in a media payload; nothing if it is not one or is damaged
/// (wrong sizes, an unknown version).
std::optional<media_ref> decode_media_payload(std::string_view payload);

/// "1.5 MiB" and the like, for people.
std::string human_size(uint64_t bytes);

} // namespace parley::client
