#include "tools/client/media_ref.hpp"

#include "schema/bytes.hpp"
#include "schema/media.capnp.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <cstdio>
#include <cstring>
#include <vector>

namespace parley::client {

namespace {

constexpr uint8_t version = 1;
constexpr size_t sha256_bytes = 32;
constexpr size_t key_bytes = 32;

} // namespace

std::string encode_media_payload(const media_ref& ref) {
  capnp::MallocMessageBuilder message;
  auto r = message.initRoot<media::schema::MediaReference>();
  r.setVersion(version);
  r.setId(as_data(ref.id));
  r.setMimeType(as_text(ref.mime_type));
  r.setSize(ref.size);
  r.setEncryptedSize(ref.encrypted_size);
  r.setKey(as_data(ref.key));
  r.setDigest(as_data(ref.digest));
  r.setChunkSize(ref.chunk_size);
  r.setFileName(as_text(ref.file_name));
  r.setThumbnail(as_data(ref.thumbnail));
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asChars();
  std::string out(media_marker);
  out.append(bytes.begin(), bytes.size());
  return out;
}

bool is_media_payload(std::string_view payload) noexcept {
  return payload.substr(0, media_marker.size()) == media_marker;
}

std::optional<media_ref> decode_media_payload(std::string_view payload) {
  if (!is_media_payload(payload))
    return std::nullopt;
  payload.remove_prefix(media_marker.size());
  if (payload.size() % sizeof(capnp::word) != 0 || payload.empty())
    return std::nullopt;
  // Aligned copy: a payload's bytes need not sit on a word boundary.
  std::vector<capnp::word> words(payload.size() / sizeof(capnp::word));
  std::memcpy(words.data(), payload.data(), payload.size());
  try {
    capnp::FlatArrayMessageReader reader(kj::arrayPtr(words.data(), words.size()));
    auto r = reader.getRoot<media::schema::MediaReference>();
    if (r.getVersion() != version)
      return std::nullopt;
    media_ref ref;
    ref.id = to_string(r.getId());
    ref.mime_type = to_string(r.getMimeType());
    ref.size = r.getSize();
    ref.encrypted_size = r.getEncryptedSize();
    ref.key = to_string(r.getKey());
    ref.digest = to_string(r.getDigest());
    ref.chunk_size = r.getChunkSize();
    ref.file_name = to_string(r.getFileName());
    ref.thumbnail = to_string(r.getThumbnail());
    if (ref.id.size() != sha256_bytes || ref.key.size() != key_bytes
        || ref.digest.size() != sha256_bytes || ref.chunk_size == 0
        || ref.file_name.find('/') != std::string::npos)
      return std::nullopt;
    return ref;
  } catch (const kj::Exception&) {
    return std::nullopt;
  }
}

std::string human_size(uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  if (unit == 0)
    std::snprintf(buf, sizeof(buf), "%llu B", static_cast<unsigned long long>(bytes));
  else
    std::snprintf(buf, sizeof(buf), "%.1f %s", value, units[unit]);
  return buf;
}

} // namespace parley::client
