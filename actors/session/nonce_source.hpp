// Unpredictable bytes for login challenges without a system call each.
//
// libsodium's randombytes_buf asks the kernel (getrandom) on every call, and a
// system call costs ≈ 1–2 µs on the project's VM: two of them were a login's
// 11 (the nonce and the first liveness check's jitter). This is ChaCha20's
// keystream under a key drawn from the kernel once, each call under a new
// ChaCha20 nonce (a counter), so no two calls share keystream. A challenge goes
// to the client in the clear: it needs to be unguessable only until it is
// sent, which a keystream under a secret key is.
//
// Not thread-safe: each hub has its own (session_set).
#pragma once

#include <sodium.h>

#include <array>
#include <cstddef>
#include <cstdint>

namespace parley {

class nonce_source {
public:
  /// Draws the key; libsodium must be initialised (sodium_init).
  nonce_source();

  nonce_source(const nonce_source&) = delete;
  nonce_source& operator=(const nonce_source&) = delete;

  ~nonce_source();

  /// The next `size` bytes.
  void fill(unsigned char* out, size_t size);

  /// A number in [0, upper), upper > 0, for jitter: its bias (upper / 2^64)
  /// does not matter there.
  uint64_t below(uint64_t upper);

private:
  std::array<unsigned char, crypto_stream_chacha20_KEYBYTES> key_{};
  uint64_t counter_ = 0;
};

} // namespace parley
