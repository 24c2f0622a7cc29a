// parley-chaos: proves that reconnecting clients lose, duplicate and reorder no
// message while nodes are killed and connections cut.
//
//   parley-chaos --node-bin build/parley-node [--clients 20] [--seconds 15]
//   parley-chaos --target HOST:PORT ... --node-cmd "COMMAND" ...
//
// With --node-bin it runs one parley-node of its own. With --target and
// --node-cmd it drives nodes it starts from those commands (each runs a node in
// the foreground; the driver kill -9s and restarts them) and sends clients to the
// targets (nodes, or HAProxy in front of them).
//
// Clients (threads, each with its own device store and reconnecting_client)
// send numbered messages to random peers for --seconds through a loopback proxy
// that cuts and stalls random connections, while random nodes are killed with
// SIGKILL and restarted. Then the chaos stops, the clients drain for up to
// --drain-seconds, and the stores are compared with what was created (see
// verify.hpp). It prints the counts; exit 0 if nothing was duplicated, lost or
// reordered and every sender saw every message delivered, 1 if not, 2 if it
// could not run. The work folder (stores, node logs) is kept on failure or
// with --keep.

#include "tests/chaos/node_runner.hpp"
#include "tests/chaos/tcp_proxy.hpp"
#include "tests/chaos/verify.hpp"
#include "tests/support/port_claim.hpp"
#include "tools/client/client.hpp"
#include "tools/client/device_store.hpp"
#include "tools/client/keystore.hpp"
#include "tools/client/reconnecting_client.hpp"

#include <CLI/CLI.hpp>
#include <sodium.h>

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <netinet/in.h>
#include <random>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace {

using namespace parley;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

struct settings {
  size_t clients = 20;
  double seconds = 15;
  double drain_seconds = 60;
  double rate = 2;           // messages per client per second
  double kill_every = 4;     // mean seconds between node kills; 0: none
  double cut_every = 0.5;    // mean seconds between connection cuts; 0: none
  double stall_every = 1;    // mean seconds between stalls; 0: none
  double max_stall = 6;      // seconds; a stall lasts 0.5 s up to this
  double max_down = 1.5;     // seconds a killed node stays down, at most
  size_t max_nodes_down = 1;
  int probe_ms = 1000;       // clients probe a silent link this often
  size_t window = 16;
  uint64_t seed = 0;
  std::string node_bin;
  std::vector<std::string> targets;
  std::vector<std::string> node_cmds;
  std::string work_dir;
  bool keep = false;
};

/// One simulated device: its thread writes everything but the atomics until
/// it is joined.
struct client_slot {
  std::string name;
  identity id;
  std::string store_path;
  std::map<std::string, uint64_t> created;  // recipient -> messages created
  std::string error;                        // why the thread gave up, if it did
  uint64_t failed_steps = 0;                 // steps that failed (store, refused login)
  std::atomic<uint64_t> links{0};
  std::atomic<int64_t> undelivered{-1};     // during the drain; -1 unknown
  std::thread thread;
};

double seconds_since(clock_type::time_point t) {
  return std::chrono::duration<double>(clock_type::now() - t).count();
}

clock_type::duration seconds(double s) {
  return std::chrono::duration_cast<clock_type::duration>(std::chrono::duration<double>(s));
}

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}


bool accepts(const chaos::endpoint& e) {
  client::options o;
  o.host = e.host;
  o.port = e.port;
  o.timeout = 500ms;
  client::connection c(o);
  return static_cast<bool>(c.connect());
}

/// Registers `slot` through the proxy, retrying while nodes come up.
bool register_client(client_slot& slot, uint16_t proxy_port, clock_type::time_point until,
                     std::string& error) {
  client::options o;
  o.port = proxy_port;
  o.timeout = 3s;
  while (clock_type::now() < until) {
    client::connection c(o);
    auto ok = c.connect();
    if (ok)
      ok = c.register_user(slot.name, slot.id);
    if (ok)
      return true;
    error = ok.error().describe();
    if (ok.error().what == client::failure::kind::server
        && ok.error().code != wire::ErrorCode::UNAVAILABLE)
      return false;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

void run_client(client_slot& me, const std::vector<std::string>& names,
                const settings& s, uint16_t proxy_port, uint64_t seed,
                const std::atomic<bool>& creating, const std::atomic<bool>& stop) {
  auto store = client::device_store::open(me.store_path);
  if (!store) {
    me.error = store.error().describe();
    return;
  }
  client::options server;
  server.port = proxy_port;
  server.timeout = 3s;
  client::reconnect_options ro;
  ro.initial_backoff = 100ms;
  ro.max_backoff = 2s;
  ro.window = s.window;
  ro.heartbeat = std::chrono::milliseconds(s.probe_ms);
  ro.missed_pongs = 3;
  ro.seed = seed;
  client::reconnecting_client rc(**store, server, me.name, me.id, ro);
  std::mt19937_64 rng(seed);
  std::exponential_distribution<double> gap(s.rate > 0 ? s.rate : 1);
  std::uniform_int_distribution<size_t> anyone(0, names.size() - 1);
  auto next_send = clock_type::now() + seconds(gap(rng));
  auto next_check = clock_type::now();
  while (!stop) {
    auto now = clock_type::now();
    if (creating && s.rate > 0 && now >= next_send) {
      std::string peer;
      do
        peer = names[anyone(rng)];
      while (peer == me.name);
      auto& n = me.created[peer];
      auto m = rc.send(peer, chaos::chaos_body(me.name, peer, n));
      if (!m) {
        me.error = "send: " + m.error().describe();
        return;
      }
      ++n;
      next_send = std::max(next_send + seconds(gap(rng)), now - 1s);
    }
    auto wait = 100ms;
    if (creating && next_send > now)
      wait = std::min(wait, std::chrono::ceil<std::chrono::milliseconds>(next_send - now));
    else if (creating)
      wait = 0ms;
    auto updates = rc.step(wait);
    if (!updates) {
      // A store failure or a refused login: counted; the client goes on trying.
      ++me.failed_steps;
      me.error = updates.error().describe();
      continue;
    }
    for (auto& u : *updates)
      if (std::holds_alternative<client::link_up>(u))
        ++me.links;
    if (!creating && now >= next_check) {
      auto n = (*store)->count_outgoing_below(client::tick_state::delivered);
      me.undelivered = n ? static_cast<int64_t>(*n) : -1;
      next_check = now + 250ms;
    }
  }
}

int run(const settings& s) {
  std::mt19937_64 rng(s.seed);
  // -- the work folder -------------------------------------------------------------
  std::string work = s.work_dir;
  if (work.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/parley-chaos-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::cerr << "parley-chaos: cannot create a work folder\n";
      return 2;
    }
    work = pattern;
  }
  std::error_code ec;
  std::filesystem::create_directories(work + "/clients", ec);

  // -- nodes -----------------------------------------------------------------------
  std::vector<std::unique_ptr<chaos::node_runner>> nodes;
  std::vector<chaos::endpoint> targets;
  if (!s.node_bin.empty()) {
    auto port = parley::test::claim_some_port();
    if (port == 0) {
      std::cerr << "parley-chaos: no free port for the node\n";
      return 2;
    }
    std::filesystem::create_directories(work + "/node", ec);
    // Heartbeats every second: the node drops stalled sessions within ~4 s.
    auto cmd = quote(s.node_bin) + " --admin-port=0 --metrics-port=0"
               + " --host=127.0.0.1 --port=" + std::to_string(port)
               + " --data-dir=" + quote(work + "/node/data")
               + " --parley.heartbeat-interval=1s";
    nodes.push_back(std::make_unique<chaos::node_runner>(cmd, work + "/node/node.log"));
    targets.push_back({"127.0.0.1", port});
  }
  for (size_t i = 0; i < s.node_cmds.size(); ++i)
    nodes.push_back(std::make_unique<chaos::node_runner>(
      s.node_cmds[i], work + "/node-" + std::to_string(i) + ".log"));
  for (auto& t : s.targets) {
    chaos::endpoint e;
    if (!chaos::parse_endpoint(t, e)) {
      std::cerr << "parley-chaos: --target must be HOST:PORT: " << t << "\n";
      return 2;
    }
    targets.push_back(e);
  }
  if (targets.empty()) {
    std::cerr << "parley-chaos: give --node-bin, or --target (and --node-cmd)\n";
    return 2;
  }
  for (auto& n : nodes) {
    std::string error;
    if (!n->start(error)) {
      std::cerr << "parley-chaos: cannot start " << n->command() << ": " << error << "\n";
      return 2;
    }
  }
  auto ready_by = clock_type::now() + 20s;
  for (auto& t : targets)
    while (!accepts(t)) {
      if (clock_type::now() > ready_by) {
        std::cerr << "parley-chaos: " << t.host << ":" << t.port
                  << " does not accept connections (logs in " << work << ")\n";
        return 2;
      }
      std::this_thread::sleep_for(50ms);
    }

  // -- the proxy and the clients ---------------------------------------------------
  chaos::tcp_proxy proxy(targets, rng());
  {
    std::string error;
    if (!proxy.start(error)) {
      std::cerr << "parley-chaos: " << error << "\n";
      return 2;
    }
  }
  char run_id[8];
  std::snprintf(run_id, sizeof(run_id), "%04x", static_cast<unsigned>(rng() & 0xFFFF));
  std::vector<std::unique_ptr<client_slot>> slots;
  std::vector<std::string> names;
  for (size_t i = 0; i < s.clients; ++i) {
    auto slot = std::make_unique<client_slot>();
    slot->name = "chaos-" + std::string(run_id) + "-" + std::to_string(i);
    slot->id = identity::generate();
    slot->store_path = work + "/clients/" + slot->name + ".sqlite";
    names.push_back(slot->name);
    slots.push_back(std::move(slot));
  }
  auto register_by = clock_type::now() + 60s;
  for (auto& slot : slots) {
    std::string error;
    if (!register_client(*slot, proxy.port(), register_by, error)) {
      std::cerr << "parley-chaos: cannot register " << slot->name << ": " << error << "\n";
      return 2;
    }
  }
  std::cout << "parley-chaos: " << s.clients << " clients, " << s.seconds << " s, "
            << nodes.size() << " node(s) it may kill, " << targets.size()
            << " target(s), seed " << s.seed << ", work folder " << work << std::endl;

  std::atomic<bool> creating{true};
  std::atomic<bool> stop{false};
  for (size_t i = 0; i < slots.size(); ++i) {
    auto& slot = *slots[i];
    auto seed = rng();
    slot.thread = std::thread([&, seed] {
      run_client(slot, names, s, proxy.port(), seed, creating, stop);
    });
  }

  // -- chaos -----------------------------------------------------------------------
  auto start = clock_type::now();
  auto end = start + seconds(s.seconds);
  auto next_in = [&](double mean) {
    return clock_type::now()
           + (mean > 0 ? seconds(std::exponential_distribution<double>(1 / mean)(rng))
                       : clock_type::duration::max() / 2);
  };
  auto next_kill = nodes.empty() ? clock_type::time_point::max() : next_in(s.kill_every);
  auto next_cut = next_in(s.cut_every);
  auto next_stall = next_in(s.stall_every);
  std::vector<clock_type::time_point> back_at(nodes.size(), clock_type::time_point::min());
  std::vector<bool> down(nodes.size(), false);
  uint64_t kills = 0;
  auto restart = [&](size_t i) {
    std::string error;
    if (!nodes[i]->start(error))
      std::cerr << "parley-chaos: cannot restart a node: " << error << "\n";
    down[i] = false;
  };
  auto keep_nodes_up = [&] {
    for (size_t i = 0; i < nodes.size(); ++i)
      if (!down[i] && !nodes[i]->running()) {
        std::cerr << "parley-chaos: a node exited by itself; restarting it (see its log)\n";
        restart(i);
      }
  };
  while (clock_type::now() < end) {
    auto now = clock_type::now();
    if (now >= next_kill) {
      size_t n_down = 0;
      std::vector<size_t> up;
      for (size_t i = 0; i < nodes.size(); ++i) {
        n_down += down[i] ? 1 : 0;
        if (!down[i])
          up.push_back(i);
      }
      if (n_down < s.max_nodes_down && !up.empty()) {
        auto i = up[std::uniform_int_distribution<size_t>(0, up.size() - 1)(rng)];
        nodes[i]->kill9();
        down[i] = true;
        ++kills;
        back_at[i] = now + seconds(std::uniform_real_distribution<double>(0.1, s.max_down)(rng));
      }
      next_kill = next_in(s.kill_every);
    }
    if (now >= next_cut) {
      proxy.cut_one();
      next_cut = next_in(s.cut_every);
    }
    if (now >= next_stall) {
      auto ms = std::uniform_int_distribution<int>(500, static_cast<int>(s.max_stall * 1000))(rng);
      proxy.stall_one(std::chrono::milliseconds(ms));
      next_stall = next_in(s.stall_every);
    }
    for (size_t i = 0; i < nodes.size(); ++i)
      if (down[i] && now >= back_at[i])
        restart(i);
    keep_nodes_up();
    std::this_thread::sleep_for(10ms);
  }

  // -- quiet: everything drains ----------------------------------------------------
  creating = false;
  for (size_t i = 0; i < nodes.size(); ++i)
    if (down[i])
      restart(i);
  proxy.resume_all();
  auto quiet_start = clock_type::now();
  auto drain_until = quiet_start + seconds(s.drain_seconds);
  bool drained = false;
  while (!drained && clock_type::now() < drain_until) {
    std::this_thread::sleep_for(100ms);
    keep_nodes_up();
    drained = true;
    for (auto& slot : slots)
      drained = drained && slot->undelivered == 0;
  }
  auto drain_time = seconds_since(quiet_start);
  stop = true;
  for (auto& slot : slots)
    slot->thread.join();

  // -- verdict ---------------------------------------------------------------------
  chaos::created_counts created;
  std::vector<chaos::device_view> devices;
  uint64_t links = 0;
  uint64_t failed_steps = 0;
  size_t broken = 0;
  for (auto& slot : slots) {
    for (auto& [to, n] : slot->created)
      created[{slot->name, to}] = n;
    links += slot->links;
    failed_steps += slot->failed_steps;
    if (!slot->error.empty()) {
      ++broken;
      std::cerr << "parley-chaos: " << slot->name << ": " << slot->error << "\n";
    }
    auto store = client::device_store::open(slot->store_path);
    if (!store) {
      std::cerr << "parley-chaos: " << store.error().describe() << "\n";
      return 2;
    }
    auto all = (*store)->all_messages();
    if (!all) {
      std::cerr << "parley-chaos: " << all.error().describe() << "\n";
      return 2;
    }
    devices.push_back({slot->name, std::move(*all)});
  }
  auto v = chaos::verify(created, devices);
  int unexpected_exits = 0;
  for (auto& n : nodes) {
    unexpected_exits += n->unexpected_exits();
    n->stop();
  }
  std::printf("chaos: %zu clients for %.0f s: %llu node kills, %llu cuts, %llu stalls, "
              "%llu logins (%llu reconnects), %llu failed steps, %d unexpected node "
              "exits; drained in %.1f s%s\n",
              s.clients, s.seconds, static_cast<unsigned long long>(kills),
              static_cast<unsigned long long>(proxy.cuts()),
              static_cast<unsigned long long>(proxy.stalls()),
              static_cast<unsigned long long>(links),
              static_cast<unsigned long long>(links > s.clients ? links - s.clients : 0),
              static_cast<unsigned long long>(failed_steps), unexpected_exits, drain_time, drained ? "" : " (timed out)");
  std::printf("created       %llu\n", static_cast<unsigned long long>(v.created));
  std::printf("delivered     %llu\n", static_cast<unsigned long long>(v.delivered));
  std::printf("received      %llu\n", static_cast<unsigned long long>(v.received));
  std::printf("duplicates    %llu\n", static_cast<unsigned long long>(v.duplicates));
  std::printf("lost          %llu\n", static_cast<unsigned long long>(v.lost));
  std::printf("out-of-order  %llu\n", static_cast<unsigned long long>(v.out_of_order));
  std::printf("unexpected    %llu\n", static_cast<unsigned long long>(v.unexpected));
  bool passed = v.passed() && v.created > 0;
  std::printf("chaos: %s\n", passed ? "PASS" : "FAIL");
  std::fflush(stdout);
  if (!passed || s.keep || broken > 0)
    std::cout << "parley-chaos: stores and logs kept in " << work << std::endl;
  else if (s.work_dir.empty())
    std::filesystem::remove_all(work, ec);
  return passed ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) {
    std::cerr << "parley-chaos: libsodium failed to initialise\n";
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  settings s;
  CLI::App app{"parley-chaos: reconnecting clients against killed nodes and cut links"};
  app.add_option("--clients", s.clients, "simulated devices")->capture_default_str();
  app.add_option("--seconds", s.seconds, "how long messages are created under chaos")
    ->capture_default_str();
  app.add_option("--drain-seconds", s.drain_seconds,
                 "how long, at most, the quiet period after the chaos lasts")
    ->capture_default_str();
  app.add_option("--rate", s.rate, "messages per client per second")->capture_default_str();
  app.add_option("--kill-every", s.kill_every, "mean seconds between node kills (0: none)")
    ->capture_default_str();
  app.add_option("--cut-every", s.cut_every,
                 "mean seconds between connection resets (0: none)")
    ->capture_default_str();
  app.add_option("--stall-every", s.stall_every,
                 "mean seconds between connection stalls (0: none)")
    ->capture_default_str();
  app.add_option("--max-stall", s.max_stall, "longest stall in seconds")
    ->capture_default_str();
  app.add_option("--max-down", s.max_down, "longest time a killed node stays down")
    ->capture_default_str();
  app.add_option("--max-nodes-down", s.max_nodes_down, "nodes down at the same time")
    ->capture_default_str();
  app.add_option("--probe-ms", s.probe_ms,
                 "clients probe a silent link this often; dead after 3 probes")
    ->capture_default_str();
  app.add_option("--window", s.window, "sends in flight per client")->capture_default_str();
  app.add_option("--seed", s.seed, "random seed (0: pick one; printed)");
  app.add_option("--node-bin", s.node_bin, "run one parley-node of its own from this binary");
  app.add_option("--target", s.targets,
                 "HOST:PORT clients go to (a node or a load balancer); repeatable");
  app.add_option("--node-cmd", s.node_cmds,
                 "shell command running a node in the foreground, which the driver "
                 "starts, kill -9s and restarts; repeatable");
  app.add_option("--work-dir", s.work_dir, "folder for stores and logs (default: a new "
                                           "one under $TMPDIR, removed on success)");
  app.add_flag("--keep", s.keep, "keep the work folder");
  CLI11_PARSE(app, argc, argv);
  if (s.clients < 2) {
    std::cerr << "parley-chaos: --clients must be at least 2\n";
    return 2;
  }
  if (s.seed == 0)
    s.seed = std::random_device{}();
  return run(s);
}
