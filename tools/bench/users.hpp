// The bench's users: names b<run>-<i> with an Ed25519 key pair each, made fresh
// or read back from a key file an earlier run wrote (so a rerun against the same
// node skips registration).
//
// Key file: a first line "parley-bench-keys <run>", then one line per user,
// "<name> <64-byte secret key in hex>". It holds private keys: mode 0600.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace parley::bench {

/// One user the bench acts as.
struct bench_user {
  std::string name;
  std::array<unsigned char, 32> public_key{};
  std::array<unsigned char, 64> secret_key{};  // libsodium's: seed, then public key
};

/// Every user of a run; index i is b<run>-<i>.
struct user_set {
  std::string run;
  std::vector<bench_user> users;
};

/// A run tag of 6 random characters of [a-z0-9].
std::string random_run_tag();

/// `n` users of run `run` with fresh keys.
user_set make_users(const std::string& run, size_t n);

/// Reads a key file; nothing (and `error` says why) if it cannot.
std::optional<user_set> load_users(const std::string& path, std::string& error);

/// Writes a key file (mode 0600), replacing `path` atomically; false and
/// `error` if it cannot.
bool save_users(const std::string& path, const user_set& users, std::string& error);

} // namespace parley::bench
