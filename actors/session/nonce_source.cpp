#include "actors/session/nonce_source.hpp"

#include <cstring>

namespace parley {

nonce_source::nonce_source() {
  randombytes_buf(key_.data(), key_.size());
}

nonce_source::~nonce_source() {
  sodium_memzero(key_.data(), key_.size());
}

void nonce_source::fill(unsigned char* out, size_t size) {
  static_assert(crypto_stream_chacha20_NONCEBYTES == sizeof(uint64_t));
  unsigned char nonce[crypto_stream_chacha20_NONCEBYTES];
  std::memcpy(nonce, &counter_, sizeof(nonce));
  ++counter_;
  crypto_stream_chacha20(out, size, nonce, key_.data());
}

uint64_t nonce_source::below(uint64_t upper) {
  uint64_t x;
  fill(reinterpret_cast<unsigned char*>(&x), sizeof(x));
  return x % upper;
}

} // namespace parley
