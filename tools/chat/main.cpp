// parley-chat: a command-line chat client.
//
//   parley-chat [--server HOST:PORT] [--tls [--ca-file F]] [--home DIR] --user NAME
//               [--json] COMMAND
//
// Commands: register, send TO [TEXT], listen [--count N] [--timeout S] [--read],
// last-seen USER, outbox, history PEER [--limit N], send-file TO PATH, fetch ID
// [OUT]; with no command, an interactive mode. Keys live in HOME/keys/, the device store (outbox, history)
// in HOME/store/.
//
// Exit codes: 0 done, 1 failed (the reason is printed), 2 wrong usage, 3 send
// could not reach a node in time: the messages are queued on this device and go
// out with the next send, listen or interactive session that connects.

#include "schema/rules.hpp"
#include "tools/chat/commands.hpp"

#include <CLI/CLI.hpp>
#include <sodium.h>

#include <csignal>
#include <iostream>

int main(int argc, char** argv) {
  using namespace parley;
  if (sodium_init() < 0) {
    std::cerr << "parley-chat: libsodium failed to initialise\n";
    return 1;
  }
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"parley-chat: send and receive parley messages"};
  std::string server = "127.0.0.1:7000";
  std::string home = keystore::default_home();
  std::string user;
  bool json = false;
  double request_timeout = 10;
  app.add_option("--server", server, "node (or load balancer) as HOST:PORT")
    ->capture_default_str();
  app.add_option("--home", home, "folder of this device's keys")->capture_default_str();
  app.add_option("--user", user, "who you are");
  app.add_flag("--json", json, "one JSON object per line");
  std::string media_url;
  app.add_option("--media", media_url,
                 "media service URL (http://HOST:PORT); default: the one the node names");
  bool tls = false;
  std::string ca_file;
  app.add_flag("--tls", tls, "connect with TLS and verify the server's certificate");
  app.add_option("--ca-file", ca_file,
                 "with --tls: trust this CA (or self-signed) certificate file");
  app.add_option("--request-timeout", request_timeout,
                 "seconds to wait for the node's answers")
    ->capture_default_str();

  app.fallthrough();  // global options may follow the command too (set before
                      // the subcommands, which copy it)
  auto reg = app.add_subcommand("register", "claim --user with a new key");
  auto send = app.add_subcommand("send", "send TEXT, or each line of stdin");
  std::string to;
  std::optional<std::string> text;
  send->add_option("to", to, "recipient")->required();
  send->add_option("text", text, "message text (default: one message per stdin line)");
  auto listen = app.add_subcommand("listen", "print incoming messages and receipts");
  std::optional<size_t> count;
  std::optional<double> timeout;
  bool read = false;
  listen->add_option("--count", count, "exit after this many messages");
  listen->add_option("--timeout", timeout, "exit after this many seconds");
  listen->add_flag("--read", read, "mark messages read as well as delivered");
  auto safety = app.add_subcommand("safety-number",
                                   "the safety number to compare with PEER's");
  std::string safety_peer;
  safety->add_option("peer", safety_peer, "the contact")->required();
  auto seen = app.add_subcommand("last-seen", "whether USER is online, or since when not");
  std::string seen_user;
  seen->add_option("user", seen_user, "whose presence")->required();
  auto outbox = app.add_subcommand("outbox", "list messages waiting to be sent");
  auto history = app.add_subcommand("history", "show a conversation with its ticks");
  std::string history_peer;
  std::optional<size_t> history_limit;
  history->add_option("peer", history_peer, "whose conversation")->required();
  history->add_option("--limit", history_limit, "only the last N messages");
  auto send_file = app.add_subcommand("send-file", "encrypt, upload and send a file");
  std::string file_to, file_path, file_mime, file_thumbnail;
  send_file->add_option("to", file_to, "recipient")->required();
  send_file->add_option("path", file_path, "the file")->required();
  send_file->add_option("--mime", file_mime, "its MIME type (default: from its name)");
  send_file->add_option("--thumbnail", file_thumbnail, "a small preview to send along");
  auto fetch = app.add_subcommand("fetch", "download and decrypt a received file");
  std::string fetch_id, fetch_out;
  fetch->add_option("id", fetch_id, "its media id (or a unique prefix), as listen shows it")
    ->required();
  fetch->add_option("out", fetch_out, "where to write it (default: its name, here)");
  app.require_subcommand(0, 1);
  CLI11_PARSE(app, argc, argv);

  auto colon = server.rfind(':');
  client::options opts;
  try {
    if (colon == std::string::npos)
      throw std::invalid_argument("no port");
    opts.host = server.substr(0, colon);
    opts.port = static_cast<uint16_t>(std::stoul(server.substr(colon + 1)));
  } catch (const std::exception&) {
    std::cerr << "parley-chat: --server must be HOST:PORT\n";
    return 2;
  }
  opts.timeout = std::chrono::milliseconds(static_cast<int64_t>(request_timeout * 1000));
  opts.tls = tls || !ca_file.empty();
  opts.ca_file = ca_file;
  if (!valid_user_name(user)) {
    std::cerr << "parley-chat: --user must be 1-32 characters of [a-z0-9._-]\n";
    return 2;
  }
  chat::context ctx{opts, keystore{home}, user, chat::printer{json}, media_url};
  if (*reg)
    return chat::run_register(ctx);
  if (*send) {
    if (!valid_user_name(to)) {
      std::cerr << "parley-chat: the recipient must be 1-32 characters of [a-z0-9._-]\n";
      return chat::exit_usage;
    }
    return chat::run_send(ctx, to, text);
  }
  if (*send_file) {
    if (!valid_user_name(file_to)) {
      std::cerr << "parley-chat: the recipient must be 1-32 characters of [a-z0-9._-]\n";
      return chat::exit_usage;
    }
    return chat::run_send_file(ctx, file_to, file_path, file_mime, file_thumbnail);
  }
  if (*fetch)
    return chat::run_fetch(ctx, fetch_id, fetch_out);
  if (*outbox)
    return chat::run_outbox(ctx);
  if (*history)
    return chat::run_history(ctx, history_peer, history_limit);
  if (*listen)
    return chat::run_listen(ctx, count, timeout, read);
  if (*safety)
    return chat::run_safety_number(ctx, safety_peer);
  if (*seen)
    return chat::run_last_seen(ctx, seen_user);
  return chat::run_interactive(ctx);
}
