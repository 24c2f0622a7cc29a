#include "support/node_process.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace parley::test {

node_process::node_process(std::string dir, std::vector<std::string> extra_args)
  : dir_(std::move(dir)), extra_args_(std::move(extra_args)) {
  // nop
}

node_process::~node_process() {
  if (pid_ > 0)
    kill_and_wait(SIGKILL);
}

void node_process::start() {
  REQUIRE(pid_ < 0);
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
  auto log_path = dir_ + "/node.log";
  pid_ = ::fork();
  REQUIRE(pid_ >= 0);
  if (pid_ == 0) {
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::chdir(dir_.c_str());  // no stray parley.ini is picked up from elsewhere
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  // The port file appears once the node listens.
  for (int i = 0; i < 1000; ++i) {
    std::ifstream in(port_file);
    unsigned port = 0, admin = 0, metrics = 0;
    std::string label;
    if (in >> port >> label >> admin >> label >> metrics && port != 0) {
      port_ = static_cast<uint16_t>(port);
      admin_port_ = static_cast<uint16_t>(admin);
      metrics_port_ = static_cast<uint16_t>(metrics);
      return;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      FAIL("parley-node exited at start:\n" << log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL("parley-node did not listen within 10 s:\n" << log());
}

int node_process::kill_and_wait(int signal) {
  if (pid_ <= 0)
    return -1;
  ::kill(pid_, signal);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

int node_process::stop() {
  auto status = kill_and_wait(SIGTERM);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string node_process::log() const {
  std::ifstream in(dir_ + "/node.log");
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

client::options node_process::client_options(int seconds) const {
  client::options opts;
  opts.host = "127.0.0.1";
  opts.port = port_;
  opts.timeout = std::chrono::seconds(seconds);
  return opts;
}

} // namespace parley::test
