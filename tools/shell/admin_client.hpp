// parley-shell's link to a node's admin port: connect, prove the cluster secret
// (as "shell"), then one command line out and one JSON document back.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace parley::shell {

class admin_client {
public:
  admin_client() = default;
  ~admin_client();

  admin_client(const admin_client&) = delete;
  admin_client& operator=(const admin_client&) = delete;

  /// Connects and authenticates; "" on success, else why not.
  std::string open(const std::string& host, uint16_t port, const std::string& secret,
                   std::chrono::milliseconds timeout);

  /// The node's name, as it answered the handshake.
  const std::string& node() const noexcept {
    return node_;
  }

  /// Sends `command` (one line) and returns the node's JSON answer; false with
  /// `reply` saying why if the link failed.
  bool ask(const std::string& command, std::string& reply);

private:
  int fd_ = -1;
  std::string node_;
  std::string pending_;
  std::chrono::milliseconds timeout_{10000};
};

} // namespace parley::shell
