// parley-node: one node of a parley cluster (by default a whole one: a single
// node with its RocksDB in ./data, listening on 127.0.0.1:7000).
//
// Options: --host, --port, --data-dir, --port-file, and every parley.* setting
// (see --help), also from a config file (--config-file, default parley.ini).
// SIGINT or SIGTERM stops it cleanly.

#include "actors/config.hpp"
#include "actors/log.hpp"
#include "node/argv.hpp"
#include "node/node.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <sodium.h>
#ifdef PARLEY_MIMALLOC
#include <mimalloc.h>
#endif

#include <csignal>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

namespace {

/// First line the client port; then "admin PORT" and "metrics PORT".
bool write_port_file(const std::string& path, const parley::node& n) {
  auto tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << n.port() << "\nadmin " << n.admin_port() << "\nmetrics " << n.metrics_port()
        << '\n';
    if (!out)
      return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

/// CAF 0.17 wakes its multiplexer through a pipe that its clock thread writes to
/// with a blocking write: under load a full pipe (64 KiB) deadlocks the two
/// (seen in W3 at 20,000 msg/s). This process's only pipes are CAF's; give them
/// room for ~130,000 wakeups.
void enlarge_wakeup_pipes() {
  DIR* fds = ::opendir("/proc/self/fd");
  if (fds == nullptr)
    return;
  while (auto* e = ::readdir(fds)) {
    if (e->d_name[0] == '.')
      continue;
    int fd = std::atoi(e->d_name);
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode))
      ::fcntl(fd, F_SETPIPE_SZ, 1 << 20);
  }
  ::closedir(fds);
}

} // namespace

int main(int argc, char** argv) {
  using namespace parley;
#ifdef PARLEY_MIMALLOC
  // mimalloc gives memory back to the OS 25 ms after it empties; under load it
  // is taken again right after, every page of it a page fault (and RocksDB's
  // memtable is refilled that way). After 1 s, memory is still given back
  // after a burst (docs/BENCHMARKS.md, row 52). MIMALLOC_DECOMMIT_DELAY decides.
  mi_option_set_default(mi_option_decommit_delay, 1000);
#endif
  if (sodium_init() < 0) {
    std::cerr << "parley-node: libsodium failed to initialise\n";
    return 1;
  }
  // Every thread inherits this mask; the main thread takes the signals below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  node_config cfg;
  cfg.load<caf::io::middleman>();
  auto args = join_long_options(argc, argv, cfg.options());
  if (auto err = cfg.parse(std::move(args), "parley.ini")) {
    std::cerr << "parley-node: " << cfg.render(err) << "\n";
    return 2;
  }
  if (cfg.cli_helptext_printed)
    return 0;
  if (!cfg.remainder.empty()) {
    std::cerr << "parley-node: unknown argument: " << cfg.remainder.front() << "\n";
    return 2;
  }
  if (auto problem = cfg.settings.validate(); !problem.empty()) {
    std::cerr << "parley-node: " << problem << "\n";
    return 2;
  }
  // After the signal mask: the writer's thread must not take SIGTERM.
  batch_log_lines();
#ifdef PARLEY_MIMALLOC
  log(log_level::info, "node: memory allocator mimalloc ", mi_version());
#endif
  caf::actor_system sys{cfg};
  enlarge_wakeup_pipes();
  node n{sys, cfg.settings};
  if (auto problem = n.start(); !problem.empty()) {
    log(log_level::error, "node: ", problem);
    return 1;
  }
  if (!cfg.settings.port_file.empty()
      && !write_port_file(cfg.settings.port_file, n)) {
    log(log_level::error, "node: cannot write ", cfg.settings.port_file);
    n.stop();
    return 1;
  }
  int signal = 0;
  sigwait(&stop_signals, &signal);
  log(log_level::info, "node: ", signal == SIGINT ? "SIGINT" : "SIGTERM",
      " received; stopping");
  n.stop();
  // Everything is written and every actor of ours has stopped. CAF 0.17's own
  // teardown (~actor_system) can hang here: the multiplexer's destructor
  // releases brokers still queued on its wakeup pipe, each handing its timeouts
  // to the clock, whose thread has already ended and whose queue holds 64 (seen
  // in 2 of ~45 benchmark runs, just after thousands of connections closed).
  // Nothing is left to save, so leave without it.
  flush_log();
  std::fflush(nullptr);
  std::_Exit(0);
}
