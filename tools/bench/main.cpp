// parley-bench: parley's load generator. It speaks the client protocol itself
// over non-blocking sockets, many connections per process, and runs the
// workloads of issue 9 by name (see workloads.hpp):
//
//   parley-bench [--host H] [--port P] [--keys FILE] ... WORKLOAD [options]
//
// It ends with a table (or --json) of rates, latency percentiles, lost and
// duplicated counts, the node's RSS and CPU (from /proc) and its own CPU. Exit
// codes: 0 every check held, 1 a check failed or the run broke, 2 wrong usage.

#include "schema/rules.hpp"
#include "tools/bench/proc.hpp"
#include "tools/bench/wire.hpp"
#include "tools/bench/workloads.hpp"

#include <CLI/CLI.hpp>
#include <sodium.h>

#include <csignal>
#include <cstring>
#include <iostream>
#include <netdb.h>
#include <sys/resource.h>
#include <sys/stat.h>

namespace {

using namespace parley::bench;

/// Resolves p.host:p.port into p.target; "" or why not.
std::string resolve(plan& p) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  auto port = std::to_string(p.port);
  if (auto rc = ::getaddrinfo(p.host.c_str(), port.c_str(), &hints, &found); rc != 0)
    return p.host + ": " + gai_strerror(rc);
  std::memcpy(&p.target, found->ai_addr, found->ai_addrlen);
  p.target_len = found->ai_addrlen;
  if (found->ai_family == AF_INET) {
    auto addr = ntohl(reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr.s_addr);
    p.loopback = (addr >> 24) == 127;
  }
  ::freeaddrinfo(found);
  return {};
}

/// As many descriptors as the hard limit allows; the connections that leaves
/// room for in one process.
size_t raise_fd_limit() {
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &lim);
  ::getrlimit(RLIMIT_NOFILE, &lim);
  return lim.rlim_cur > 64 ? static_cast<size_t>(lim.rlim_cur) - 64 : 1;
}

bool file_exists(const std::string& path) {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0;
}

} // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) {
    std::cerr << "parley-bench: libsodium failed to initialise\n";
    return 1;
  }
  std::signal(SIGPIPE, SIG_IGN);

  plan p;
  std::string run;
  std::vector<int> node_pids;
  std::optional<size_t> users;
  CLI::App app{"parley-bench: load generator and measurements for parley-node"};
  app.add_option("--host", p.host, "node (or load balancer) address")->capture_default_str();
  app.add_option("--port", p.port, "node port")->capture_default_str();
  app.add_option("--users", users, "users (default per workload)");
  app.add_option("--run", run, "run tag: users are b<run>-<i> (default random)");
  app.add_option("--keys", p.keys_file,
                 "key file: read it if it exists (no registration), else write it");
  app.add_flag("--register", p.force_register, "register users read from --keys again");
  app.add_option("--node-pid", node_pids,
                 "node process(es) to watch (default: whoever listens on --port)")
    ->delimiter(',');
  app.add_flag("--json", p.json, "print one JSON object instead of the table");
  app.add_option("--json-file", p.json_file, "write the JSON object to FILE too");
  app.add_flag("--quiet", p.quiet, "no progress line");
  app.add_option("--payload", p.payload, "bytes per message (>= 32)")->capture_default_str();
  app.add_option("--drain", p.drain,
                 "give up waiting for outstanding answers after this many seconds "
                 "without progress")
    ->capture_default_str();
  app.add_option("--start-delay", p.start_delay,
                 "seconds between the last login and the first send (time to attach "
                 "a profiler)")
    ->capture_default_str();
  app.add_option("--procs", p.procs, "load processes (default: by --max-per-process)");
  app.add_option("--max-per-process", p.max_per_process, "connections per process")
    ->capture_default_str();
  app.add_option("--login-concurrency", p.login_concurrency,
                 "logins under way at once, per process")
    ->capture_default_str();
  app.add_option("--register-connections", p.register_connections,
                 "connections registering users, per process")
    ->capture_default_str();

  app.fallthrough();  // before the subcommands, which inherit it: global options
                     // may follow the workload's name
  app.add_subcommand("register", "register --users users (write them with --keys)");
  auto w1 = app.add_subcommand("w1", "users log in and stay: login rate, node RSS per user");
  w1->add_option("--hold", p.hold, "seconds all stay logged in after the RSS reading")
    ->capture_default_str();
  w1->add_option("--settle", p.settle, "seconds before each RSS reading")
    ->capture_default_str();
  size_t w2_window = 16;
  auto add_closed = [&](CLI::App* cmd) {
    cmd->add_option("--seconds", p.seconds, "sending time")->capture_default_str();
    cmd->add_option("--window", w2_window, "unanswered sends per user")
      ->capture_default_str();
  };
  add_closed(app.add_subcommand("w2", "pairs send with a window: delivered/s, node CPU"));
  add_closed(app.add_subcommand("w5", "w2 against --host/--port of a load balancer"));
  auto w3 = app.add_subcommand("w3", "pairs send at a fixed total rate: latency");
  w3->add_option("--rate", p.rate, "messages/s over all users")->capture_default_str();
  w3->add_option("--seconds", p.seconds, "sending time")->capture_default_str();
  w3->add_option("--warmup", p.warmup, "seconds of sends whose latency is not recorded")
    ->capture_default_str();
  size_t senders = 4;
  size_t w4_window = 64;
  auto w4 = app.add_subcommand("w4", "messages to an offline user, then its drain");
  w4->add_option("--count", p.count, "messages")->capture_default_str();
  w4->add_option("--senders", senders, "sending users")->capture_default_str();
  w4->add_option("--window", w4_window, "unanswered sends per sender")
    ->capture_default_str();
  app.require_subcommand(1);
  CLI11_PARSE(app, argc, argv);

  p.workload = app.get_subcommands().front()->get_name();
  auto usage = [](const std::string& why) {
    std::cerr << "parley-bench: " << why << "\n";
    return 2;
  };
  if (p.workload == "w4") {
    if (senders < 1)
      return usage("w4 needs --senders >= 1");
    p.users = senders + 1;
    p.window = w4_window;
  } else {
    p.window = w2_window;
    size_t fallback = p.workload == "w1" ? 18000 : p.workload == "w3" ? 10000 : 1000;
    p.users = users.value_or(fallback);
  }
  if (p.workload == "register" && !users)
    return usage("register needs --users");
  if (p.users < 1 || ((p.workload == "w2" || p.workload == "w3" || p.workload == "w5")
                      && p.users < 2))
    return usage("too few --users");
  if (p.payload < stamp_bytes || p.payload > 60000)
    return usage("--payload must be 32..60000 bytes");
  if (!run.empty() && (run.size() > 16 || !parley::valid_user_name(run)))
    return usage("--run must be 1-16 characters of [a-z0-9._-]");
  if (auto why = resolve(p); !why.empty())
    return usage(why);
  p.max_per_process = std::min(p.max_per_process, raise_fd_limit());
  p.run_code = randombytes_random();

  // Users: from the key file when there is one, else new ones.
  user_set users_set;
  run_context ctx{p, users_set};
  if (!p.keys_file.empty() && file_exists(p.keys_file)) {
    std::string error;
    auto loaded = load_users(p.keys_file, error);
    if (!loaded)
      return usage(error);
    if (loaded->users.size() < p.users)
      return usage(p.keys_file + " holds " + std::to_string(loaded->users.size())
                   + " users; this run needs " + std::to_string(p.users));
    loaded->users.resize(p.users);
    users_set = std::move(*loaded);
    ctx.need_register = p.force_register;
  } else {
    users_set = make_users(run.empty() ? random_run_tag() : run, p.users);
    ctx.save_keys = !p.keys_file.empty();
  }

  // The node(s) to watch.
  for (auto pid : node_pids)
    p.node_pids.push_back(static_cast<pid_t>(pid));
  if (p.node_pids.empty() && p.workload != "w5" && p.loopback) {
    if (auto pid = find_listener(p.port))
      p.node_pids.push_back(*pid);
  }
  if (p.node_pids.empty() && !p.quiet)
    std::cerr << "parley-bench: no node process to watch (--node-pid): node figures "
                 "are left out\n";
  return run_workload(ctx);
}
