// A node process the chaos driver owns: started from a shell command that runs
// the node in the foreground, killed with SIGKILL (its whole process group, so
// a wrapper script dies with it) and started again with the same command. Its
// output is appended to a log file. The destructor kills what still runs.
#pragma once

#include <string>
#include <sys/types.h>

namespace parley::chaos {

class node_runner {
public:
  node_runner(std::string command, std::string log_path);
  ~node_runner();

  node_runner(const node_runner&) = delete;
  node_runner& operator=(const node_runner&) = delete;

  /// Starts the command; false (with a reason) if it could not be forked.
  bool start(std::string& error);

  /// SIGKILL to the process group, then waits for it.
  void kill9();

  /// SIGTERM to the process group, then waits up to `seconds`, then SIGKILL.
  void stop(int seconds = 10);

  /// Whether it runs; reaps it (and counts the exit) if it ended on its own.
  bool running();

  /// Times it ended without being killed by this runner (a crash, or a port
  /// that was taken).
  int unexpected_exits() const noexcept {
    return unexpected_exits_;
  }

  const std::string& command() const noexcept {
    return command_;
  }

private:
  std::string command_;
  std::string log_path_;
  pid_t pid_ = -1;
  int unexpected_exits_ = 0;
};

} // namespace parley::chaos
