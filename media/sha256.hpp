// SHA-256 over a stream of bytes: the id of a blob is the SHA-256 of its
// (encrypted) bytes, computed by the client before the upload and by the media
// server while it receives them.
//
// OpenSSL's EVP rather than libsodium: it uses the CPU's SHA extensions where
// there are any (≈ 500 MB/s to 1.2 GB/s on the project's machines against
// libsodium's portable ≈ 120 MB/s), and hashing bounds upload throughput.
#pragma once

#include <cstddef>
#include <string>

struct evp_md_ctx_st;

namespace parley::media {

constexpr size_t sha256_bytes = 32;

class sha256 {
public:
  sha256();
  ~sha256();

  sha256(const sha256&) = delete;
  sha256& operator=(const sha256&) = delete;

  void update(const void* data, size_t size);

  /// The 32-byte digest; the object starts over afterwards.
  std::string finish();

private:
  evp_md_ctx_st* ctx_;
};

} // namespace parley::media
