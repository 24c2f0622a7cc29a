#include "tools/bench/control.hpp"

#include <cerrno>
#include <sys/socket.h>
#include <unistd.h>

namespace parley::bench {

control_channel::~control_channel() {
  if (fd_ >= 0)
    ::close(fd_);
}

control_channel::control_channel(control_channel&& other) noexcept
  : fd_(other.fd_), buffer_(std::move(other.buffer_)) {
  other.fd_ = -1;
}

control_channel& control_channel::operator=(control_channel&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = other.fd_;
    buffer_ = std::move(other.buffer_);
    other.fd_ = -1;
  }
  return *this;
}

bool control_channel::send(std::string_view line) {
  std::string text(line);
  text += '\n';
  size_t off = 0;
  while (off < text.size()) {
    auto n = ::send(fd_, text.data() + off, text.size() - off, MSG_NOSIGNAL);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      continue;  // EAGAIN: the socket is non-blocking for reads; retry the write
    if (n <= 0)
      return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

bool control_channel::receive() {
  char buf[64 * 1024];
  for (;;) {
    auto n = ::recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
    if (n > 0) {
      buffer_.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return true;
    return false;  // closed or broken
  }
}

std::optional<std::string> control_channel::next_line() {
  auto end = buffer_.find('\n');
  if (end == std::string::npos)
    return std::nullopt;
  auto line = buffer_.substr(0, end);
  buffer_.erase(0, end + 1);
  return line;
}

std::pair<std::string_view, std::string_view> split_word(std::string_view line) {
  auto space = line.find(' ');
  if (space == std::string_view::npos)
    return {line, {}};
  return {line.substr(0, space), line.substr(space + 1)};
}

} // namespace parley::bench
