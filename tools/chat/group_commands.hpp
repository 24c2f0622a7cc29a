// parley-chat's group commands and `info`. Each returns the process exit code
// (commands.hpp). Groups are named by their id, 32 hex digits ("#" before them
// allowed), which `group create` prints; `send '#ID' TEXT` sends to a group.
#pragma once

#include "tools/chat/commands.hpp"

#include <string>
#include <vector>

namespace parley::chat {

/// Creates a group with this user as its admin; prints it, its id first.
int run_group_create(context& ctx, const std::string& name,
                     const std::vector<std::string>& members);

/// "add", "remove" or "promote" `members` (admins only); prints the group.
int run_group_change(context& ctx, const std::string& group, const std::string& what,
                     const std::vector<std::string>& members);

int run_group_leave(context& ctx, const std::string& group);

/// Prints the group as its home node holds it now.
int run_group_info(context& ctx, const std::string& group);

/// Lists the groups this device knows of (no node needed).
int run_group_list(context& ctx);

/// Where our message `id` (hex, as send and history show it) stands: for a
/// group message each recipient's state from the group's home node, then the
/// aggregate tick; for a message to one user its tick.
int run_info(context& ctx, const std::string& id);

} // namespace parley::chat
