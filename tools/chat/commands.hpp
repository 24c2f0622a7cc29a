// parley-chat's commands. Each returns the process exit code: 0 done, 1 failed
// (the reason is printed), 2 wrong usage.
#pragma once

#include "tools/chat/printer.hpp"
#include "tools/client/client.hpp"
#include "tools/client/keystore.hpp"

#include <optional>
#include <string>

namespace parley::chat {

struct context {
  client::options server;
  keystore keys;
  std::string user;
  printer out;
};

int run_register(context& ctx);

/// Sends `text`, or each line of standard input when there is none.
int run_send(context& ctx, const std::string& to, const std::optional<std::string>& text);

int run_listen(context& ctx, std::optional<size_t> count,
               std::optional<double> timeout_seconds, bool read);

int run_last_seen(context& ctx, const std::string& user);

/// Lines typed are commands (/help lists them); incoming events print as they come.
int run_interactive(context& ctx);

} // namespace parley::chat
