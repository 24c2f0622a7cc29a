// parley-chat's commands. Each returns the process exit code (see exit_code).
//
// send, listen and the interactive mode keep this device's store
// (HOME/store/USER.sqlite): what is sent goes to the outbox first, what arrives
// is recorded before it is acknowledged, and whichever of them connects next
// sends what is still queued, oldest first.
#pragma once

#include "tools/chat/printer.hpp"
#include "tools/client/client.hpp"
#include "tools/client/device_store.hpp"
#include "tools/client/e2e_codec.hpp"
#include "tools/client/keystore.hpp"

#include <memory>
#include <optional>
#include <string>

namespace parley::chat {

class device;  // device.hpp

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
  std::string media_url;  // overrides the media service the node names
};

// -- shared by the commands (each prints why it failed) ----------------------------

/// A failure on this device rather than the node's answer (this prints nothing).
client::failure local_failure(std::string message);

/// The user's identity on this device.
std::optional<identity> load_identity(context& ctx);

/// The user's device store.
std::unique_ptr<client::device_store> open_store(context& ctx);

/// The device's end-to-end layer.
std::unique_ptr<client::e2e_codec> open_codec(context& ctx, client::device_store& store,
                                              const identity& id);

/// Says so when a contact's identity key changed (compare safety numbers).
void warn_key_changes(context& ctx, client::e2e_codec& codec);

/// Connects and logs in as ctx.user; false on failure.
bool open_session(context& ctx, client::connection& conn);

// -- the commands --------------------------------------------------------------------

int run_register(context& ctx);

/// Queues `text`, or each line of standard input when there is none, then sends
/// the outbox and waits for the sent ticks (up to the request timeout).
int run_send(context& ctx, const std::string& to, const std::optional<std::string>& text);

/// Sends what waits in the outbox and waits for the sent ticks (up to the
/// request timeout); what gets none stays queued (exit_queued).
/// `d` was opened without receiving (device::open(ctx, false)).
int send_outbox(context& ctx, device& d);

/// Encrypts and uploads the file at `path` to the media service (resuming
/// after broken links), then sends `to` a message referring to it.
int run_send_file(context& ctx, const std::string& to, const std::string& path,
                  const std::string& mime_type, const std::string& thumbnail_path);

/// Downloads the file of a received media message (`id`: a unique prefix of its
/// media id, as listen and history show it), checks and decrypts it into `out`
/// (default: the sender's file name, in the current folder). Resumes a download
/// an earlier run left unfinished.
int run_fetch(context& ctx, const std::string& id, const std::string& out);

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
