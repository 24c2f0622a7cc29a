#include "support/node_process.hpp"

#include "support/cluster.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <thread>
#include <sys/wait.h>
#include <unistd.h>

namespace parley::test {

node_process::node_process(std::string dir, std::vector<std::string> extra_args)
  : dir_(std::move(dir)), extra_args_(std::move(extra_args)) {
  // nop
}

void node_process::start() {
  if (port_ == 0)
    port_ = free_port();  // claimed: free again when the node restarts
  auto port_file = dir_ + "/port";
  ::unlink(port_file.c_str());
  std::vector<std::string> args{PARLEY_NODE_BIN,
                                "--host=127.0.0.1",
                                "--port=" + std::to_string(port_),
                                "--data-dir=" + data_dir(),
                                "--port-file=" + port_file,
                                "--admin-port=0",
                                "--metrics-port=0",
                                // Tests send in bulk; the rate-limit tests
                                // set their own limits after this one.
                                "--parley.rate-messages=1000000",
                                "--parley.rate-bytes=1000000000"};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  // In its folder: no stray parley.ini is picked up from elsewhere.
  child_.start(std::move(args), dir_, dir_ + "/node.log");
  // The port file appears once the node listens.
  child_.wait_until([&] {
    std::ifstream in(port_file);
    unsigned port = 0, admin = 0, metrics = 0;
    std::string label;
    if (!(in >> port >> label >> admin >> label >> metrics) || port == 0)
      return false;
    port_ = static_cast<uint16_t>(port);
    admin_port_ = static_cast<uint16_t>(admin);
    metrics_port_ = static_cast<uint16_t>(metrics);
    return true;
  });
}

int node_process::kill_and_wait(int signal) {
  return child_.kill_and_wait(signal);
}

int node_process::stop() {
  auto status = kill_and_wait(SIGTERM);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string node_process::log() const {
  return child_.log();
}

bool node_process::log_shows(const std::string& text) const {
  for (int i = 0; i < 250; ++i) {
    if (log().find(text) != std::string::npos)
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

client::options node_process::client_options(int seconds) const {
  client::options opts;
  opts.host = "127.0.0.1";
  opts.port = port_;
  opts.timeout = std::chrono::seconds(seconds);
  return opts;
}

} // namespace parley::test
