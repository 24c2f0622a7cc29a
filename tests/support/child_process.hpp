// A program a test runs (parley-node, parley-media, turnserver): started with its output
// appended to a log file, waited for until it is ready, and killed with SIGKILL
// if it still runs when the test is done.
#pragma once

#include <functional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace parley::test {

class child_process {
public:
  child_process() = default;
  ~child_process();

  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// Starts `args` (args[0]: the program's path, or its name on PATH) in folder
  /// `workdir`, its standard output and error appended to `log_path`.
  void start(std::vector<std::string> args, const std::string& workdir,
             std::string log_path);

  /// Asks `ready` every 10 ms until it holds; fails the test, with the log, if
  /// the program exits first or 10 s pass.
  void wait_until(const std::function<bool()>& ready);

  /// Sends `signal` and waits for the end; the wait status (-1: not running).
  int kill_and_wait(int signal);

  bool running() const noexcept {
    return pid_ > 0;
  }
  pid_t pid() const noexcept {
    return pid_;
  }

  /// Everything it wrote, over all its starts.
  std::string log() const;

private:
  std::string program_;  // for failure messages
  std::string log_path_;
  pid_t pid_ = -1;
};

} // namespace parley::test
