// parley-shell: look inside a running parley cluster, the way Erlang operators
// attach a remote shell to a live node.
//
//   parley-shell [--node HOST:PORT] [--secret-file F] [--json] [-c 'COMMAND']
//
// With -c it runs one command and exits (0 done, 1 the node answered with an
// error, 2 cannot connect or wrong usage); without, an interactive shell with
// line editing, history (~/.parley_shell_history) and tab completion. "help"
// lists the commands.

#include "tools/shell/admin_client.hpp"
#include "tools/shell/render.hpp"

#include <CLI/CLI.hpp>
#include <editline/readline.h>
#include <nlohmann/json.hpp>
#include <sodium.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>

namespace {

constexpr int exit_done = 0;
constexpr int exit_error = 1;
constexpr int exit_usage = 2;

const char* commands[] = {"nodes", "actors",   "sessions", "whois", "inbox", "stats",
                          "kick",  "drain",    "loglevel", "help",  "quit",  nullptr};

char* complete_command(const char* text, int state) {
  static size_t index;
  static size_t length;
  if (state == 0) {
    index = 0;
    length = std::strlen(text);
  }
  while (commands[index] != nullptr) {
    auto name = commands[index++];
    if (std::strncmp(name, text, length) == 0)
      return strdup(name);
  }
  return nullptr;
}

char** complete(const char* text, int start, int) {
  // Command names at the start of the line; nothing after (user names are not
  // the shell's to list).
  rl_attempted_completion_over = 1;
  if (start != 0)
    return nullptr;
  return rl_completion_matches(text, complete_command);
}

/// Whether a reply says the command failed.
bool is_error(const std::string& reply) {
  auto doc = nlohmann::json::parse(reply, nullptr, false);
  return doc.is_discarded() || (doc.is_object() && doc.contains("error"));
}

void show(const std::string& reply, bool json) {
  if (json)
    std::cout << reply << std::endl;
  else if (is_error(reply))
    std::cerr << "error: " << parley::shell::render(reply);
  else
    std::cout << parley::shell::render(reply) << std::flush;
}

std::string history_path() {
  auto home = std::getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.parley_shell_history";
}

} // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0)
    return exit_usage;
  CLI::App app{"parley-shell: inspect a running parley cluster"};
  std::string node = "127.0.0.1:7099";
  std::string secret_file = "data/cookie";
  if (auto env = std::getenv("PARLEY_SECRET_FILE"); env != nullptr && *env != '\0')
    secret_file = env;
  std::string command;
  bool json = false;
  app.add_option("--node", node, "a node's admin port as HOST:PORT")->capture_default_str();
  app.add_option("--secret-file", secret_file,
                 "the cluster's secret (a standalone node's is DATA-DIR/cookie)")
    ->capture_default_str();
  app.add_option("-c", command, "run this command and exit");
  app.add_flag("--json", json, "answers as JSON, one document per line");
  CLI11_PARSE(app, argc, argv);

  auto colon = node.rfind(':');
  if (colon == std::string::npos) {
    std::cerr << "parley-shell: --node must be HOST:PORT\n";
    return exit_usage;
  }
  std::ifstream in(secret_file);
  std::string secret;
  std::getline(in, secret);
  while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back())))
    secret.pop_back();
  if (secret.empty()) {
    std::cerr << "parley-shell: no secret in " << secret_file << "\n";
    return exit_usage;
  }
  parley::shell::admin_client client;
  auto port = static_cast<uint16_t>(std::atoi(node.substr(colon + 1).c_str()));
  if (auto problem = client.open(node.substr(0, colon), port, secret,
                                 std::chrono::seconds(10));
      !problem.empty()) {
    std::cerr << "parley-shell: " << problem << "\n";
    return exit_usage;
  }
  std::string reply;
  if (!command.empty()) {
    if (!client.ask(command, reply)) {
      std::cerr << "parley-shell: " << reply << "\n";
      return exit_usage;
    }
    show(reply, json);
    return is_error(reply) ? exit_error : exit_done;
  }
  rl_readline_name = "parley-shell";
  rl_attempted_completion_function = complete;
  auto history = history_path();
  read_history(history.c_str());
  auto prompt = "parley:" + client.node() + "> ";
  for (;;) {
    char* raw = readline(prompt.c_str());
    if (raw == nullptr)
      break;  // end of input
    std::string line = raw;
    std::free(raw);
    auto first = line.find_first_not_of(' ');
    if (first == std::string::npos)
      continue;
    line = line.substr(first);
    add_history(line.c_str());
    if (line == "quit" || line == "exit")
      break;
    if (!client.ask(line, reply)) {
      std::cerr << "parley-shell: " << reply << "\n";
      write_history(history.c_str());
      return exit_usage;
    }
    show(reply, json);
  }
  write_history(history.c_str());
  return exit_done;
}
