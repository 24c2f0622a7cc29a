#include "tools/shell/admin_client.hpp"

#include "actors/cluster/handshake.hpp"

#include <cerrno>
#include <cstring>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace parley::shell {

admin_client::~admin_client() {
  if (fd_ >= 0)
    ::close(fd_);
}

std::string admin_client::open(const std::string& host, uint16_t port,
                               const std::string& secret,
                               std::chrono::milliseconds timeout) {
  timeout_ = timeout;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  auto service = std::to_string(port);
  if (auto rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0)
    return host + ": " + gai_strerror(rc);
  std::string error = "no address";
  for (auto* ai = found; ai != nullptr && fd_ < 0; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
      continue;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
      fd_ = fd;
    else {
      error = std::strerror(errno);
      ::close(fd);
    }
  }
  ::freeaddrinfo(found);
  if (fd_ < 0)
    return "cannot connect to " + host + ":" + service + ": " + error;
  auto hs = handshake_as_connector(fd_, "shell", "", secret, timeout);
  if (!hs.ok)
    return "refused: " + hs.error;
  node_ = hs.peer;
  return {};
}

bool admin_client::ask(const std::string& command, std::string& reply) {
  auto line = command + "\n";
  if (::send(fd_, line.data(), line.size(), MSG_NOSIGNAL)
      != static_cast<ssize_t>(line.size())) {
    reply = "the node closed the connection";
    return false;
  }
  auto deadline = std::chrono::steady_clock::now() + timeout_;
  for (;;) {
    if (auto nl = pending_.find('\n'); nl != std::string::npos) {
      reply = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      return true;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) != 1) {
      reply = "no answer from the node";
      return false;
    }
    char buf[4096];
    auto n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) {
      reply = "the node closed the connection";
      return false;
    }
    pending_.append(buf, static_cast<size_t>(n));
  }
}

} // namespace parley::shell
