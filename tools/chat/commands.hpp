// parley-chat's commands. Each returns the process exit code (see exit_code).
//
// send, listen and the interactive mode keep this device's store
// (HOME/store/USER.sqlite): what is sent goes to the outbox first, what arrives
// is recorded before it is acknowledged, and whichever of them connects next
// sends what is still queued, oldest first.
#pragma once

#include "tools/chat/printer.hpp"
#include "tools/client/client.hpp"
#include "tools/client/keystore.hpp"

#include <optional>
#include <string>

namespace parley::chat {

/// parley-chat's exit codes.
enum exit_code : int {
  exit_done = 0,    ///< done: for send, every message has its sent tick
  exit_failed = 1,  ///< failed; the reason is printed (for send: the node refused one)
  exit_usage = 2,   ///< wrong usage
  exit_queued = 3,  ///< send only: no node reachable (in time); the messages wait in
                    ///< the outbox and go out with the next send, listen or
                    ///< interactive session that connects
};

struct context {
  client::options server;
  keystore keys;
  std::string user;
  printer out;
};

int run_register(context& ctx);

/// Queues `text`, or each line of standard input when there is none, then sends
/// the outbox and waits for the sent ticks (up to the request timeout).
int run_send(context& ctx, const std::string& to, const std::optional<std::string>& text);

/// What listen does with incoming calls (call_commands.hpp).
enum class call_policy;

/// Prints what arrives, recording it, and sends the outbox; reconnects until
/// `count` messages arrived or `timeout_seconds` passed. Incoming calls are
/// handled as `calls` says.
int run_listen(context& ctx, std::optional<size_t> count,
               std::optional<double> timeout_seconds, bool read, call_policy calls);

int run_last_seen(context& ctx, const std::string& user);

/// The safety number with `peer`: compare it with theirs, read aloud or side by
/// side; if both show the same, nobody sits between you.
int run_safety_number(context& ctx, const std::string& peer);

/// Lists the messages waiting in the outbox, oldest first.
int run_outbox(context& ctx);

/// Shows the conversation with `peer` (the last `limit` messages) with ticks.
int run_history(context& ctx, const std::string& peer, std::optional<size_t> limit);

/// Lines typed are commands (/help lists them); incoming events print as they come.
int run_interactive(context& ctx);

} // namespace parley::chat
