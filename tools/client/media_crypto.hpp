// A file's encryption for the media service: a fresh random key per file,
// libsodium's secretstream (XChaCha20-Poly1305) over chunks of the file, so that
// neither side ever holds a whole file in memory and a truncated, reordered or
// altered blob fails to decrypt.
//
// The blob is the 24-byte secretstream header followed by one secretstream
// message per chunk of chunk_size file bytes (each 17 bytes longer); the last
// chunk is shorter than chunk_size (possibly empty) and tagged final.
//
// The blob is never written to the sender's disk: seal_file() encrypts once to
// learn the blob's SHA-256 (its id, which the upload URL and token need
// first), and blob_reader encrypts again, from the same key and header, for the
// upload itself, from any offset a resumed upload needs. Both passes produce
// the same bytes; a file that changed in between is caught by its size and time
// and, failing that, by the media service's hash check.
#pragma once

#include "tools/client/client.hpp"
#include "tools/client/media_ref.hpp"

#include <sodium.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>

namespace parley::media {
class sha256;
}

namespace parley::client {

/// File bytes per secretstream message.
constexpr uint32_t media_chunk_size = 64 * 1024;

/// The blob's size for a file of `size` bytes.
uint64_t encrypted_size(uint64_t size, uint32_t chunk_size = media_chunk_size);

/// What it takes to produce a file's blob again: its key and the stream's start.
struct sealing {
  std::string path;
  std::string key;  // 32 bytes
  std::array<unsigned char, crypto_secretstream_xchacha20poly1305_HEADERBYTES> header{};
  crypto_secretstream_xchacha20poly1305_state start{};  // right after init_push
  uint32_t chunk_size = media_chunk_size;
  uint64_t size = 0;     // of the file, when sealed
  int64_t mtime_ns = 0;  // of the file, when sealed
};

/// The result of the first pass: the reference (id, sizes, key, digest; the
/// caller adds the MIME type, name and thumbnail) and the sealing.
struct sealed_file {
  media_ref ref;
  sealing seal;
};

/// Encrypts `path` under a fresh key without storing the result, hashing the
/// blob (its id) and the file (its digest).
outcome<sealed_file> seal_file(const std::string& path);

/// Produces a sealed file's blob, byte for byte the same as when it was sealed.
class blob_reader {
public:
  /// Opens the file again; fails if it changed since it was sealed.
  static outcome<std::unique_ptr<blob_reader>> open(const sealing& seal);

  ~blob_reader();

  blob_reader(const blob_reader&) = delete;
  blob_reader& operator=(const blob_reader&) = delete;

  /// Goes to blob byte `offset` (encrypting from the start up to it).
  outcome<done> seek(uint64_t offset);

  /// Up to `max` next bytes of the blob; 0 at its end.
  outcome<size_t> read(char* out, size_t max);

  /// Hashes the file's bytes as they are encrypted (from the start on).
  void hash_file_into(media::sha256* hash) noexcept {
    file_hash_ = hash;
  }

  /// The blob's bytes so far produced (the position).
  uint64_t position() const noexcept {
    return position_;
  }

private:
  explicit blob_reader(const sealing& seal, int fd);

  /// Encrypts the next chunk into pending_.
  outcome<done> next_chunk();

  const sealing& seal_;
  int fd_;
  crypto_secretstream_xchacha20poly1305_state state_{};
  std::string plain_;
  std::string pending_;     // encrypted bytes not yet handed out
  size_t pending_pos_ = 0;
  uint64_t file_pos_ = 0;
  uint64_t position_ = 0;
  bool header_done_ = false;
  bool final_done_ = false;
  media::sha256* file_hash_ = nullptr;
};

/// Decrypts the blob at `blob_path` into `out_path` (written under a temp name,
/// fsynced, renamed), checking the stream's tags, the size and the digest of
/// `ref`. Nothing is left at `out_path` on failure.
outcome<done> decrypt_file(const std::string& blob_path, const media_ref& ref,
                           const std::string& out_path);

/// The SHA-256 of a file's bytes.
outcome<std::string> sha256_of_file(const std::string& path);

} // namespace parley::client
