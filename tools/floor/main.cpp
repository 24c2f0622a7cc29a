// parley-floor: see floor.hpp.
#include "tools/floor/floor.hpp"

#include <CLI/CLI.hpp>
#include <sodium.h>

int main(int argc, char** argv) {
  CLI::App app{"parley-floor: what this machine allows a server that does only a workload's "
               "bare work (W1's logins, W3's relaying), to read parley's figures against"};
  app.require_subcommand(1);
  parley::floor::cpus where;
  app.add_option("--server-cpu", where.server, "CPU the server is pinned to")->capture_default_str();
  app.add_option("--client-cpu", where.client, "CPU the client is pinned to")->capture_default_str();

  parley::floor::relay_options relay;
  auto* relay_cmd = app.add_subcommand("relay", "W3's shape: frames relayed at a fixed rate");
  relay_cmd->add_option("--connections", relay.connections, "connections, in pairs")
    ->capture_default_str()->check(CLI::Range(2, 19000));
  relay_cmd->add_option("--rate", relay.rate, "frames per second in all")
    ->capture_default_str()->check(CLI::Range(1.0, 1e6));
  relay_cmd->add_option("--seconds", relay.seconds, "how long")
    ->capture_default_str()->check(CLI::Range(0.1, 600.0));
  relay_cmd->add_option("--sync-file", relay.sync_file,
                        "append each wakeup's frames here and fdatasync before relaying them "
                        "(removed afterwards)");

  parley::floor::login_options login;
  auto* login_cmd = app.add_subcommand("logins", "W1's shape: connect and an Ed25519 login");
  login_cmd->add_option("--count", login.count, "logins; every connection stays open")
    ->capture_default_str()->check(CLI::Range(1, 19000));
  login_cmd->add_option("--window", login.window, "logins under way at once")
    ->capture_default_str()->check(CLI::Range(1, 4096));

  CLI11_PARSE(app, argc, argv);
  if (sodium_init() < 0)
    return 2;
  if (relay_cmd->parsed())
    return parley::floor::relay(where, relay);
  return parley::floor::logins(where, login);
}
