// parley-media: the media service, its own process beside the chat nodes.
//
//   parley-media --key-file FILE [--host H] [--port P] [--blob-dir D]
//                [--max-size 2GiB] [--retention 30d] ... [--config FILE]
//   parley-media --key-file FILE token up|down USER SHA256 [--size N]
//                [--recipients A,B] [--ttl 15m]
//
// The second form prints a token signed with the key and exits: for operators
// and benchmarks that talk to the service with curl.
//
// Stores encrypted blobs uploaded with tokens that chat nodes sign with the
// key in FILE (the same file as the nodes' parley.media-key-file), and serves
// them back (see media/server.hpp and docs/media.md). SIGINT or SIGTERM stops
// it: it closes its connections (uploads cut this way resume later) and exits 0.

#include "actors/log.hpp"
#include "media/blob_store.hpp"
#include "media/server.hpp"
#include "media/sha256.hpp"
#include "media/token.hpp"
#include "media/units.hpp"

#include <CLI/CLI.hpp>
#include <sodium.h>

#include <csignal>
#include <cstdio>
#include <ctime>
#include <sstream>
#include <fstream>
#include <iostream>
#include <thread>

namespace {

bool write_port_file(const std::string& path, uint16_t port) {
  auto tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << '\n';
    if (!out)
      return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

} // namespace

int main(int argc, char** argv) {
  using namespace parley;
  using namespace parley::media;
  if (sodium_init() < 0) {
    std::cerr << "parley-media: libsodium failed to initialise\n";
    return 1;
  }
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"parley-media: stores and serves encrypted media blobs over HTTP"};
  app.set_config("--config", "", "INI file with any of these options (name=value)");
  server_settings s;
  s.threads = std::max(2u, std::thread::hardware_concurrency());
  std::string max_size = "2GiB", retention = "30d", partial_retention = "1d",
              sweep_interval = "10m", idle_timeout = "60s";
  app.add_option("--host", s.host, "address to listen on")->capture_default_str();
  app.add_option("--port", s.port, "port to listen on (0: any free port)")
    ->capture_default_str();
  app.add_option("--port-file", s.port_file, "write the bound port to this file");
  app.add_option("--blob-dir", s.blob_dir, "folder of the blobs")->capture_default_str();
  app.add_option("--key-file", s.key_file,
                 "the token key shared with the chat nodes (parley.media-key-file)");
  app.add_option("--max-size", max_size, "largest blob (bytes, or with KiB/MiB/GiB)")
    ->capture_default_str();
  app.add_option("--retention", retention,
                 "a blob is deleted this long after its upload (s/m/h/d), or once "
                 "every recipient downloaded it")
    ->capture_default_str();
  app.add_option("--partial-retention", partial_retention,
                 "an unfinished upload nobody resumed for this long is deleted")
    ->capture_default_str();
  app.add_option("--sweep-interval", sweep_interval, "how often retention is applied")
    ->capture_default_str();
  app.add_option("--idle-timeout", idle_timeout,
                 "a connection silent this long (reading or writing) is closed")
    ->capture_default_str();
  app.add_option("--threads", s.threads, "I/O threads")->capture_default_str();
  app.add_option("--max-connections", s.max_connections,
                 "connections at once; more are closed at once")
    ->capture_default_str();
  auto token_cmd = app.add_subcommand("token", "print a token signed with the key, and exit");
  std::string t_action, t_user, t_sha, t_recipients, t_ttl = "15m";
  uint64_t t_size = 0;
  token_cmd->add_option("action", t_action, "up or down")->required();
  token_cmd->add_option("user", t_user, "who it is for")->required();
  token_cmd->add_option("sha256", t_sha, "the blob's SHA-256, 64 hex digits")->required();
  token_cmd->add_option("--size", t_size, "up: the blob's size in bytes");
  token_cmd->add_option("--recipients", t_recipients, "up: comma-separated user names");
  token_cmd->add_option("--ttl", t_ttl, "how long it is valid")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (*token_cmd) {
    std::string error;
    auto key = s.key_file.empty() ? std::nullopt : token_key::load(s.key_file, error);
    auto ttl = parse_duration(t_ttl);
    auto sha = from_hex(t_sha);
    if (!key || !ttl || !sha || sha->size() != sha256_bytes
        || (t_action != "up" && t_action != "down")) {
      std::cerr << "parley-media: token needs --key-file, up or down, a user, 64 hex digits"
                   " and a duration like 15m"
                << (error.empty() ? "" : " (" + error + ")") << "\n";
      return 2;
    }
    token_claims c;
    c.what = t_action == "up" ? action::upload : action::download;
    c.user = t_user;
    c.sha256 = *sha;
    c.size = t_size;
    std::stringstream names(t_recipients);
    for (std::string name; std::getline(names, name, ',');)
      if (!name.empty())
        c.recipients.push_back(name);
    c.expires = static_cast<int64_t>(std::time(nullptr)) + ttl->count();
    auto text = key->sign(c);
    if (!std::holds_alternative<token_claims>(key->verify(text, std::time(nullptr)))) {
      std::cerr << "parley-media: user names are 1-32 characters of [a-z0-9._-]\n";
      return 2;
    }
    std::cout << text << "\n";
    return 0;
  }

  auto size = parse_size(max_size);
  auto ret = parse_duration(retention);
  auto pret = parse_duration(partial_retention);
  auto sweep = parse_duration(sweep_interval);
  auto idle = parse_duration(idle_timeout);
  if (!size || !ret || !pret || !sweep || !idle) {
    std::cerr << "parley-media: sizes are like 2GiB or 512MiB, durations like 30d, 12h, "
                 "10m or 90s\n";
    return 2;
  }
  s.max_size = *size;
  s.retention = *ret;
  s.partial_retention = *pret;
  s.sweep_interval = *sweep;
  s.idle_timeout = *idle;
  if (auto problem = s.validate(); !problem.empty()) {
    std::cerr << "parley-media: " << problem << "\n";
    return 2;
  }
  std::string error;
  auto key = token_key::load(s.key_file, error);
  if (!key) {
    log(log_level::error, "media: ", error);
    return 1;
  }
  auto store = blob_store::open(s.blob_dir, error);
  if (!store) {
    log(log_level::error, "media: ", error);
    return 1;
  }
  auto srv = server::create(s, std::move(*key), std::move(store), error);
  if (!srv) {
    log(log_level::error, "media: ", error);
    return 1;
  }
  if (!s.port_file.empty() && !write_port_file(s.port_file, srv->port())) {
    log(log_level::error, "media: cannot write ", s.port_file);
    return 1;
  }
  srv->run();
  return 0;
}
