// Who in the cluster is reachable now, and where each user lives: one immutable
// snapshot. The membership actor makes a new one on every change and hands it
// out by message; sessions and the store keep a shared pointer to the latest.
#pragma once

#include "actors/messages.hpp"

#include <caf/allowed_unsafe_message_type.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace parley {

/// A reachable member and the link to it.
struct member_link {
  node_actors actors;
  /// Changes whenever the link is re-established: requests sent over an older
  /// link may have been lost with it.
  uint64_t generation = 0;
};

class routes {
public:
  /// `members` are all configured members (self included), reachable or not.
  routes(std::string self, std::vector<std::string> members,
         std::unordered_map<std::string, member_link> up);

  /// A single node that is its own cluster.
  static std::shared_ptr<const routes> standalone(std::string self,
                                                  node_actors local);

  const std::string& self() const noexcept {
    return self_;
  }

  const std::vector<std::string>& members() const noexcept {
    return members_;
  }

  /// The member that is home to `user`, reachable or not.
  const std::string& home_name(std::string_view user) const;

  /// The link to a member, or nullptr while it is unreachable.
  const member_link* link(const std::string& member) const;

  /// The link to `user`'s home, or nullptr while it is unreachable.
  const member_link* home(std::string_view user) const {
    return link(home_name(user));
  }

private:
  std::string self_;
  std::vector<std::string> members_;
  std::unordered_map<std::string, member_link> up_;
};

using routes_ptr = std::shared_ptr<const routes>;

using routes_atom = caf::atom_constant<caf::atom("routes")>;

} // namespace parley

// Snapshots never leave the node: they travel between local actors only.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::routes_ptr)
