#include "tests/chaos/node_runner.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace parley::chaos {

node_runner::node_runner(std::string command, std::string log_path)
  : command_(std::move(command)), log_path_(std::move(log_path)) {
  // nop
}

node_runner::~node_runner() {
  kill9();
}

bool node_runner::start(std::string& error) {
  if (pid_ > 0)
    return true;
  auto script = "exec " + command_;
  pid_ = ::fork();
  if (pid_ < 0) {
    error = std::string("fork: ") + std::strerror(errno);
    return false;
  }
  if (pid_ == 0) {
    ::setpgid(0, 0);  // its own group: kill9 reaches whatever the command spawns
    int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null >= 0)
      ::dup2(null, 0);
    ::execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::setpgid(pid_, pid_);  // also here: no race with the child's own call
  return true;
}

void node_runner::kill9() {
  if (pid_ <= 0)
    return;
  ::kill(-pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void node_runner::stop(int seconds) {
  if (pid_ <= 0)
    return;
  ::kill(-pid_, SIGTERM);
  for (int i = 0; i < seconds * 20; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill9();
}

bool node_runner::running() {
  if (pid_ <= 0)
    return false;
  if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
    pid_ = -1;
    ++unexpected_exits_;
    return false;
  }
  return true;
}

} // namespace parley::chaos
