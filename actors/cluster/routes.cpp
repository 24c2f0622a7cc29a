#include "actors/cluster/routes.hpp"

#include "actors/cluster/rendezvous.hpp"

#include <algorithm>

namespace parley {

routes::routes(std::string self, std::vector<std::string> members,
               std::unordered_map<std::string, member_link> up)
  : self_(std::move(self)), members_(std::move(members)), up_(std::move(up)) {
  std::sort(members_.begin(), members_.end());
}

std::shared_ptr<const routes> routes::standalone(std::string self,
                                                 node_actors local) {
  std::unordered_map<std::string, member_link> up;
  up.emplace(self, member_link{std::move(local), 0});
  return std::make_shared<const routes>(self, std::vector<std::string>{self},
                                        std::move(up));
}

const std::string& routes::home_name(std::string_view user) const {
  return rendezvous_home(members_, user);
}

const member_link* routes::link(const std::string& member) const {
  auto i = up_.find(member);
  return i == up_.end() ? nullptr : &i->second;
}

} // namespace parley
