#include "actors/session/presence_beats.hpp"

#include <algorithm>

namespace parley {

void presence_beats::add(const caf::actor& presence, const std::string& user) {
  auto i = std::find_if(batches_.begin(), batches_.end(),
                        [&](const batch& b) { return b.presence == presence; });
  if (i == batches_.end())
    i = batches_.insert(batches_.end(), batch{presence, {}});
  i->users.push_back(user);
}

size_t presence_beats::size() const noexcept {
  size_t n = 0;
  for (auto& b : batches_)
    n += b.users.size();
  return n;
}

} // namespace parley
