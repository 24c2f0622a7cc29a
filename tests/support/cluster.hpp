// A real cluster for tests: N parley-node processes on loopback that know each
// other as members, sharing a secret, each with its own folder.
#pragma once

#include "support/node_process.hpp"
#include "support/temp_dir.hpp"

#include <memory>
#include <string>
#include <vector>

namespace parley::test {

class cluster {
public:
  /// Prepares n members n1..nN; `extra_args` go to every node.
  explicit cluster(size_t n, std::vector<std::string> extra_args = {});

  /// Starts every node and waits until each sees all others up.
  void start();

  node_process& node(size_t i) {
    return *nodes_.at(i);
  }

  /// "n1".."nN" for index 0..N-1.
  static std::string name(size_t i) {
    return "n" + std::to_string(i + 1);
  }

  /// Index of the member that is home to `user`.
  size_t home_of(const std::string& user) const;

  /// A fresh user name (with `prefix`) whose home is member `i`.
  std::string user_homed_on(size_t i, const std::string& prefix) const;

  /// Waits until node `i`'s log says `peer` is up `times` times in all.
  void await_up(size_t i, size_t peer, size_t times = 1);

  const std::string& secret_file() const {
    return secret_file_;
  }

  /// The --cluster.* arguments node `i` runs with (for custom variants).
  std::vector<std::string> member_args(size_t i, const std::string& secret_file) const;

private:
  temp_dir dir_;
  std::vector<std::string> names_;
  std::vector<uint16_t> peer_ports_;
  std::string secret_file_;
  std::vector<std::unique_ptr<node_process>> nodes_;
};

/// A free loopback TCP port below the ephemeral range, claimed for this process
/// (support/port_claim.hpp).
uint16_t free_port();

} // namespace parley::test
