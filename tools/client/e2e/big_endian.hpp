// Internal to the e2e library: big-endian integers in the byte strings that are
// signed or authenticated, so that their layout does not depend on the machine.
#pragma once

#include <cstdint>
#include <string>

namespace parley::e2e::detail {

inline void put_be32(std::string& out, uint32_t x) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out += static_cast<char>((x >> shift) & 0xFF);
}

inline void put_be64(std::string& out, uint64_t x) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out += static_cast<char>((x >> shift) & 0xFF);
}

} // namespace parley::e2e::detail
