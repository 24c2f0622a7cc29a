// Where a user lives: rendezvous (highest random weight) hashing of the user name
// over the cluster's configured members. Every node computes the same answer
// from the same member list, and adding or removing a member moves only the
// users whose highest weight it was.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace parley {

/// The member (by name) that is home to `user`. `members` must not be empty.
const std::string& rendezvous_home(const std::vector<std::string>& members,
                                   std::string_view user);

} // namespace parley
