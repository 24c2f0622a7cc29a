#include "actors/cluster/rendezvous.hpp"

#include <sodium.h>

#include <cstdint>
#include <cstring>

namespace parley {

namespace {

/// SipHash with a fixed key: stable across processes, machines and versions.
uint64_t weight(std::string_view member, std::string_view user) {
  static constexpr unsigned char key[crypto_shorthash_KEYBYTES] = {
    'p', 'a', 'r', 'l', 'e', 'y', '-', 'h', 'o', 'm', 'e', '-', 'v', '1', 0, 0};
  std::string input;
  input.reserve(member.size() + 1 + user.size());
  input.append(member);
  input += '\0';
  input.append(user);
  unsigned char out[crypto_shorthash_BYTES];
  crypto_shorthash(out, reinterpret_cast<const unsigned char*>(input.data()),
                   input.size(), key);
  uint64_t x;
  std::memcpy(&x, out, sizeof(x));
  return x;
}

} // namespace

const std::string& rendezvous_home(const std::vector<std::string>& members,
                                   std::string_view user) {
  const std::string* best = &members.front();
  uint64_t best_weight = weight(*best, user);
  for (size_t i = 1; i < members.size(); ++i) {
    auto w = weight(members[i], user);
    if (w > best_weight || (w == best_weight && members[i] < *best)) {
      best = &members[i];
      best_weight = w;
    }
  }
  return *best;
}

} // namespace parley
