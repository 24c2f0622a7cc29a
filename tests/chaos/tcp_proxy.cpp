#include "tests/chaos/tcp_proxy.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace parley::chaos {

namespace {

void set_nodelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

} // namespace

bool parse_endpoint(const std::string& text, endpoint& out) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= text.size())
    return false;
  unsigned long port = 0;
  for (size_t i = colon + 1; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9')
      return false;
    port = port * 10 + static_cast<unsigned long>(text[i] - '0');
    if (port > 65535)
      return false;
  }
  if (port == 0)
    return false;
  out.host = text.substr(0, colon);
  out.port = static_cast<uint16_t>(port);
  return true;
}

tcp_proxy::tcp_proxy(std::vector<endpoint> targets, uint64_t seed)
  : targets_(std::move(targets)), rng_(seed) {
  // nop
}

tcp_proxy::~tcp_proxy() {
  stop_ = true;
  if (wake_[1] >= 0) {
    char c = 0;
    [[maybe_unused]] auto n = ::write(wake_[1], &c, 1);
  }
  if (thread_.joinable())
    thread_.join();
  for (auto& l : links_)
    close_link(l, false);
  for (int fd : {listener_, wake_[0], wake_[1]})
    if (fd >= 0)
      ::close(fd);
}

bool tcp_proxy::start(std::string& error) {
  if (targets_.empty()) {
    error = "the proxy has no targets";
    return false;
  }
  if (::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
    error = std::string("pipe: ") + std::strerror(errno);
    return false;
  }
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), len) != 0
      || ::listen(listener_, 1024) != 0
      || ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    error = std::string("proxy listener: ") + std::strerror(errno);
    return false;
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { run(); });
  return true;
}

// -- commands from the driver -----------------------------------------------------

void tcp_proxy::post(command c) {
  {
    std::lock_guard<std::mutex> guard(mutex_);
    commands_.push_back(c);
  }
  char byte = 0;
  [[maybe_unused]] auto n = ::write(wake_[1], &byte, 1);
}

void tcp_proxy::cut_one() {
  post(command{command::kind::cut, {}});
}

void tcp_proxy::stall_one(std::chrono::milliseconds how_long) {
  post(command{command::kind::stall, how_long});
}

void tcp_proxy::resume_all() {
  post(command{command::kind::resume_all, {}});
}

void tcp_proxy::apply(const command& c) {
  auto now = clock::now();
  if (c.what == command::kind::resume_all) {
    for (auto& l : links_)
      l.stalled_until = {};
    return;
  }
  std::vector<size_t> candidates;
  for (size_t i = 0; i < links_.size(); ++i)
    if (links_[i].down >= 0 && links_[i].stalled_until <= now)
      candidates.push_back(i);
  if (candidates.empty())
    return;
  auto& l = links_[candidates[std::uniform_int_distribution<size_t>(
    0, candidates.size() - 1)(rng_)]];
  if (c.what == command::kind::cut) {
    close_link(l, true);
    ++cuts_;
  } else {
    l.stalled_until = now + c.how_long;
    ++stalls_;
  }
}

// -- forwarding -------------------------------------------------------------------

int tcp_proxy::connect_upstream() {
  for (size_t tries = 0; tries < targets_.size(); ++tries) {
    auto& t = targets_[next_target_++ % targets_.size()];
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (::getaddrinfo(t.host.c_str(), std::to_string(t.port).c_str(), &hints, &found)
        != 0)
      continue;
    int fd = -1;
    for (auto* ai = found; ai != nullptr && fd < 0; ai = ai->ai_next) {
      fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                    ai->ai_protocol);
      if (fd < 0)
        continue;
      int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
      int err = rc == 0 ? 0 : errno;
      if (err == EINPROGRESS) {
        // Loopback answers at once; a target that does not is as good as down.
        pollfd p{fd, POLLOUT, 0};
        err = ::poll(&p, 1, 500) == 1 ? 0 : ETIMEDOUT;
        socklen_t size = sizeof(err);
        if (err == 0)
          ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &size);
      }
      if (err != 0) {
        ::close(fd);
        fd = -1;
      }
    }
    ::freeaddrinfo(found);
    if (fd >= 0)
      return fd;
  }
  return -1;
}

void tcp_proxy::accept_all() {
  for (;;) {
    int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
      return;
    ++accepted_;
    int up = connect_upstream();
    if (up < 0) {
      // No node: the client sees its connection closed at once, as it would
      // through a load balancer with every backend down.
      ++refused_;
      ::close(fd);
      continue;
    }
    set_nodelay(fd);
    set_nodelay(up);
    link l;
    l.down = fd;
    l.up = up;
    links_.push_back(std::move(l));
  }
}

bool tcp_proxy::flush(int to, std::string& pending) {
  size_t off = 0;
  while (off < pending.size()) {
    auto n = ::send(to, pending.data() + off, pending.size() - off,
                    MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      pending.erase(0, off);
      return errno == EAGAIN || errno == EWOULDBLOCK;
    }
    off += static_cast<size_t>(n);
  }
  pending.clear();
  return true;
}

bool tcp_proxy::forward(int from, int to, std::string& pending) {
  char buf[64 * 1024];
  auto n = ::recv(from, buf, sizeof(buf), MSG_DONTWAIT);
  if (n == 0) {
    flush(to, pending);  // what came before the close, as far as it goes
    return false;
  }
  if (n < 0)
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  pending.append(buf, static_cast<size_t>(n));
  if (recording_) {
    std::lock_guard<std::mutex> guard{recorded_mtx_};
    recorded_.append(buf, static_cast<size_t>(n));
  }
  return flush(to, pending);
}

void tcp_proxy::close_link(link& l, bool reset) {
  for (int* fd : {&l.down, &l.up}) {
    if (*fd < 0)
      continue;
    if (reset) {
      linger hard{1, 0};  // close sends RST: both sides see a broken connection
      ::setsockopt(*fd, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
    }
    ::close(*fd);
    *fd = -1;
  }
  l.to_up.clear();
  l.to_down.clear();
}

void tcp_proxy::run() {
  std::vector<pollfd> fds;
  while (!stop_) {
    auto now = clock::now();
    fds.clear();
    fds.push_back({wake_[0], POLLIN, 0});
    fds.push_back({listener_, POLLIN, 0});
    for (auto& l : links_) {
      bool stalled = l.stalled_until > now;
      short down = 0;
      short up = 0;
      if (!stalled) {
        // Read a side only while what it sent before has gone on.
        down = static_cast<short>((l.to_up.empty() ? POLLIN : 0)
                                  | (l.to_down.empty() ? 0 : POLLOUT));
        up = static_cast<short>((l.to_down.empty() ? POLLIN : 0)
                                | (l.to_up.empty() ? 0 : POLLOUT));
      }
      // A stalled link is polled for nothing; its fds stay so indices line up.
      fds.push_back({stalled ? -1 : l.down, down, 0});
      fds.push_back({stalled ? -1 : l.up, up, 0});
    }
    if (::poll(fds.data(), fds.size(), 50) < 0 && errno != EINTR)
      break;
    for (size_t i = 0; i < links_.size(); ++i) {
      auto& l = links_[i];
      auto& d = fds[2 + 2 * i];
      auto& u = fds[3 + 2 * i];
      if (d.fd < 0 || l.down < 0)
        continue;
      bool ok = true;
      constexpr short readable = POLLIN | POLLHUP | POLLERR;
      if (ok && (d.revents & readable) != 0 && l.to_up.empty())
        ok = forward(l.down, l.up, l.to_up);
      if (ok && (u.revents & readable) != 0 && l.to_down.empty())
        ok = forward(l.up, l.down, l.to_down);
      if (ok && (d.revents & POLLOUT) != 0)
        ok = flush(l.down, l.to_down);
      if (ok && (u.revents & POLLOUT) != 0)
        ok = flush(l.up, l.to_up);
      if (!ok)
        close_link(l, false);
    }
    if ((fds[1].revents & POLLIN) != 0)
      accept_all();
    if ((fds[0].revents & POLLIN) != 0) {
      char buf[256];
      while (::read(wake_[0], buf, sizeof(buf)) > 0) {
        // drained
      }
      std::deque<command> todo;
      {
        std::lock_guard<std::mutex> guard(mutex_);
        todo.swap(commands_);
      }
      for (auto& c : todo)
        apply(c);
    }
    // Forget closed links.
    size_t kept = 0;
    for (size_t i = 0; i < links_.size(); ++i) {
      if (links_[i].down < 0)
        continue;
      if (kept != i)
        links_[kept] = std::move(links_[i]);
      ++kept;
    }
    links_.resize(kept);
  }
}

} // namespace parley::chaos
