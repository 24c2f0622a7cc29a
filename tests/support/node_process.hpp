// A real parley-node process for tests: started with its RocksDB in a folder of
// the test's, on a port claimed for the test (support/port_claim.hpp), its log
// in that folder. It can be killed (any signal) and started again on the same
// folder and port.
#pragma once

#include "support/child_process.hpp"
#include "tools/client/client.hpp"

#include <string>
#include <sys/types.h>
#include <vector>

namespace parley::test {

class node_process {
public:
  /// `dir` holds the data folder, the port file and the log.
  explicit node_process(std::string dir, std::vector<std::string> extra_args = {});

  /// Starts the node and waits until it listens; fails the test if it does not.
  void start();

  /// Sends `signal` and waits for the process to end; returns its wait status.
  int kill_and_wait(int signal);

  /// SIGTERM, then waits: a clean stop. Returns the exit code.
  int stop();

  bool running() const noexcept {
    return child_.running();
  }

  uint16_t port() const noexcept {
    return port_;
  }

  uint16_t admin_port() const noexcept {
    return admin_port_;
  }

  uint16_t metrics_port() const noexcept {
    return metrics_port_;
  }

  pid_t pid() const noexcept {
    return child_.pid();
  }

  std::string data_dir() const {
    return dir_ + "/data";
  }

  std::string log() const;

  /// Whether the log shows `text` within 5 s: the node writes info lines
  /// in batches, up to 50 ms late (actors/log.hpp).
  bool log_shows(const std::string& text) const;

  /// Client options for this node, with a timeout of `seconds`.
  client::options client_options(int seconds = 20) const;

private:
  std::string dir_;
  std::vector<std::string> extra_args_;
  child_process child_;  // SIGKILLed when the test is done, if still running
  uint16_t port_ = 0;
  uint16_t admin_port_ = 0;
  uint16_t metrics_port_ = 0;
};

} // namespace parley::test
