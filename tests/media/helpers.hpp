// Helpers of the media tests: running commands (curl, parley-chat), files of
// random bytes, hashes.
#pragma once

#include "media/sha256.hpp"
#include "media/token.hpp"
#include "support/commands.hpp"

#include <catch2/catch.hpp>
#include <sodium.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>

namespace parley::test {


/// Whether `condition` holds within `seconds`, asking every 50 ms. For what a
/// server does just after its answer went out (a log line, a deletion).
template <class F>
bool eventually(F condition, int seconds = 10) {
  for (int i = 0; i < seconds * 20; ++i) {
    if (condition())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

/// `size` random bytes in a new file at `path`.
inline std::string write_random_file(const std::string& path, size_t size) {
  std::string bytes(size, '\0');
  randombytes_buf(bytes.data(), bytes.size());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return bytes;
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// The raw SHA-256 of `bytes`.
inline std::string sha256_raw(const std::string& bytes) {
  media::sha256 h;
  h.update(bytes.data(), bytes.size());
  return h.finish();
}

} // namespace parley::test
