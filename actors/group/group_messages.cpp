#include "actors/group/group_messages.hpp"

#include <algorithm>

namespace parley {

bool valid_group_id(std::string_view hex) noexcept {
  return hex.size() == 32 && std::all_of(hex.begin(), hex.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string notice_id(uint64_t epoch) {
  // "notice" and the epoch, big-endian: never a client's random id by chance
  // that matters, since notices are deduplicated under the group's own name.
  std::string id = "gnotice:";
  for (int shift = 56; shift >= 0; shift -= 8)
    id += static_cast<char>((epoch >> shift) & 0xFF);
  return id;
}

const group_member* group_state::find(std::string_view user) const noexcept {
  auto i = std::find_if(members.begin(), members.end(),
                        [&](const group_member& m) { return m.user == user; });
  return i == members.end() ? nullptr : &*i;
}

group_member* group_state::find(std::string_view user) noexcept {
  auto i = std::find_if(members.begin(), members.end(),
                        [&](const group_member& m) { return m.user == user; });
  return i == members.end() ? nullptr : &*i;
}

} // namespace parley
