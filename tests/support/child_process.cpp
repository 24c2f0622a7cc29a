#include "support/child_process.hpp"

#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <csignal>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace parley::test {

child_process::~child_process() {
  if (pid_ > 0)
    kill_and_wait(SIGKILL);
}

void child_process::start(std::vector<std::string> args, const std::string& workdir,
                          std::string log_path) {
  REQUIRE(pid_ < 0);
  REQUIRE(!args.empty());
  program_ = args[0].substr(args[0].rfind('/') + 1);
  log_path_ = std::move(log_path);
  pid_ = ::fork();
  REQUIRE(pid_ >= 0);
  if (pid_ == 0) {
    int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    if (::chdir(workdir.c_str()) != 0)
      ::_exit(126);
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    std::fprintf(stderr, "cannot run %s: %s\n", argv[0], std::strerror(errno));
    ::_exit(127);
  }
}

void child_process::wait_until(const std::function<bool()>& ready) {
  for (int i = 0; i < 1000; ++i) {
    if (ready())
      return;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      FAIL(program_ << " exited at start:\n" << log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL(program_ << " did not listen within 10 s:\n" << log());
}

int child_process::kill_and_wait(int signal) {
  if (pid_ <= 0)
    return -1;
  ::kill(pid_, signal);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

std::string child_process::log() const {
  std::ifstream in(log_path_);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

} // namespace parley::test
