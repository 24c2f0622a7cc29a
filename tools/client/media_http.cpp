#include "tools/client/media_http.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace parley::client {

namespace {

using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;

/// Bytes of a body read or written at once.
constexpr size_t chunk = 256 * 1024;

/// The most of a body kept in http_response::body.
constexpr size_t max_kept_body = 64 * 1024;

/// How long to wait for "100 Continue" before sending the body anyway.
constexpr auto continue_wait = 1000ms;

failure transport(std::string message) {
  return failure{failure::kind::transport, wire::ErrorCode::INTERNAL, std::move(message)};
}

failure protocol(std::string message) {
  return failure{failure::kind::protocol, wire::ErrorCode::INTERNAL, std::move(message)};
}

std::string lower(std::string s) {
  for (auto& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

/// One connection's socket with a read buffer; closes when destroyed.
class socket_io {
public:
  socket_io(int fd, std::chrono::milliseconds timeout) : fd_(fd), timeout_(timeout) {}
  ~socket_io() {
    ::close(fd_);
  }

  /// Waits up to `wait` for something to read; false on timeout.
  outcome<bool> readable(std::chrono::milliseconds wait) {
    if (!in_.empty())
      return true;
    pollfd p{fd_, POLLIN, 0};
    for (;;) {
      auto rc = ::poll(&p, 1, static_cast<int>(wait.count()));
      if (rc < 0 && errno == EINTR)
        continue;
      if (rc < 0)
        return transport(std::string("poll: ") + std::strerror(errno));
      return rc > 0;
    }
  }

  /// Reads more into the buffer; false at the end of the stream.
  outcome<bool> fill() {
    auto ready = readable(timeout_);
    if (!ready)
      return ready.error();
    if (!*ready)
      return failure{failure::kind::timeout, wire::ErrorCode::INTERNAL,
                     "no answer from the media service"};
    char buf[64 * 1024];
    for (;;) {
      auto n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return transport(std::string("reading from the media service: ")
                         + std::strerror(errno));
      in_.append(buf, static_cast<size_t>(n));
      return n > 0;
    }
  }

  /// Writes everything, or fails (a server that stopped reading times out).
  outcome<done> write(const char* data, size_t size) {
    while (size > 0) {
      pollfd p{fd_, POLLOUT, 0};
      auto rc = ::poll(&p, 1, static_cast<int>(timeout_.count()));
      if (rc < 0 && errno == EINTR)
        continue;
      if (rc == 0)
        return failure{failure::kind::timeout, wire::ErrorCode::INTERNAL,
                       "the media service does not read"};
      auto n = ::send(fd_, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (n < 0)
        return transport(std::string("writing to the media service: ") + std::strerror(errno));
      data += n;
      size -= static_cast<size_t>(n);
    }
    return done{};
  }

  std::string& in() noexcept {
    return in_;
  }

  int fd() const noexcept {
    return fd_;
  }

private:
  int fd_;
  std::chrono::milliseconds timeout_;
  std::string in_;
};

outcome<int> connect_to(const http_endpoint& ep, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  auto port = std::to_string(ep.port);
  if (auto rc = ::getaddrinfo(ep.host.c_str(), port.c_str(), &hints, &found); rc != 0)
    return transport(ep.host + ": " + gai_strerror(rc));
  std::string last_error = "no address";
  int result = -1;
  for (auto* ai = found; ai != nullptr && result < 0; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                      ai->ai_protocol);
    if (fd < 0)
      continue;
    int err = ::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ? 0 : errno;
    if (err == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      auto ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
      socklen_t len = sizeof(err);
      if (ready <= 0)
        err = ready == 0 ? ETIMEDOUT : errno;
      else if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
        err = errno;
    }
    if (err == 0) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      result = fd;
    } else {
      last_error = std::strerror(err);
      ::close(fd);
    }
  }
  ::freeaddrinfo(found);
  if (result < 0)
    return transport("cannot connect to the media service at " + ep.host + ":" + port + ": "
                     + last_error);
  return result;
}

/// Reads one response head from `io`, 1xx ones included.
outcome<http_response> read_any_head(socket_io& io) {
  {
    size_t end;
    while ((end = io.in().find("\r\n\r\n")) == std::string::npos) {
      if (io.in().size() > 64 * 1024)
        return protocol("response header too large");
      auto more = io.fill();
      if (!more)
        return more.error();
      if (!*more)
        return transport("the media service closed the connection without an answer");
    }
    auto head = io.in().substr(0, end);
    io.in().erase(0, end + 4);
    http_response res;
    auto line_end = head.find("\r\n");
    auto status_line = head.substr(0, line_end);
    // "HTTP/1.1 200 OK"
    auto sp = status_line.find(' ');
    if (status_line.compare(0, 5, "HTTP/") != 0 || sp == std::string::npos)
      return protocol("not an HTTP response");
    auto code = status_line.substr(sp + 1, 3);
    auto [p, ec] = std::from_chars(code.data(), code.data() + code.size(), res.status);
    if (ec != std::errc{} || p != code.data() + code.size())
      return protocol("not an HTTP status: " + status_line);
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      auto next = head.find("\r\n", pos);
      if (next == std::string::npos)
        next = head.size();
      auto line = head.substr(pos, next - pos);
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        auto value = line.substr(colon + 1);
        auto first = value.find_first_not_of(" \t");
        auto last = value.find_last_not_of(" \t");
        value = first == std::string::npos ? std::string() : value.substr(first, last - first + 1);
        res.headers.emplace_back(lower(line.substr(0, colon)), value);
      }
      pos = next + 2;
    }
    return res;
  }
}

/// Reads a final response head, skipping 1xx ones.
outcome<http_response> read_head(socket_io& io) {
  for (;;) {
    auto res = read_any_head(io);
    if (!res || res->status >= 200)
      return res;
  }
}

/// Reads the body of `res` (the answer to `method`), into `sink` or res.body.
outcome<done> read_body(socket_io& io, const std::string& method, http_response& res,
                        const body_sink* sink) {
  if (method == "HEAD" || res.status == 204 || res.status == 304)
    return done{};
  if (lower(res.header("transfer-encoding")).find("chunked") != std::string::npos)
    return protocol("chunked responses are not supported");
  auto length_text = res.header("content-length");
  bool until_close = length_text.empty();
  uint64_t remaining = 0;
  if (!until_close) {
    auto [p, ec] = std::from_chars(length_text.data(), length_text.data() + length_text.size(),
                                   remaining);
    if (ec != std::errc{} || p != length_text.data() + length_text.size())
      return protocol("bad Content-Length: " + length_text);
  }
  bool to_sink = sink != nullptr && *sink && res.status >= 200 && res.status < 300;
  for (;;) {
    auto& in = io.in();
    auto take = until_close ? in.size() : static_cast<size_t>(std::min<uint64_t>(in.size(), remaining));
    if (take > 0) {
      if (to_sink) {
        if (auto ok = (*sink)(res, in.data(), take); !ok)
          return ok;
      } else if (res.body.size() < max_kept_body) {
        res.body.append(in.data(), std::min(take, max_kept_body - res.body.size()));
      }
      in.erase(0, take);
      remaining -= until_close ? 0 : take;
    }
    if (!until_close && remaining == 0)
      return done{};
    auto more = io.fill();
    if (!more)
      return more.error();
    if (!*more) {
      if (until_close)
        return done{};
      return transport("the media service closed the connection in the middle of a body");
    }
  }
}

} // namespace

std::optional<http_endpoint> parse_http_url(const std::string& url) {
  constexpr std::string_view scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0)
    return std::nullopt;
  auto rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  http_endpoint ep;
  if (slash != std::string::npos) {
    ep.prefix = rest.substr(slash);
    while (!ep.prefix.empty() && ep.prefix.back() == '/')
      ep.prefix.pop_back();
  }
  std::string host = authority;
  if (!authority.empty() && authority.front() == '[') {  // [::1]:8080
    auto close = authority.find(']');
    if (close == std::string::npos)
      return std::nullopt;
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':')
        return std::nullopt;
      auto port = authority.substr(close + 2);
      unsigned value = 0;
      auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
      if (ec != std::errc{} || p != port.data() + port.size() || value == 0 || value > 65535)
        return std::nullopt;
      ep.port = static_cast<uint16_t>(value);
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string::npos) {
    host = authority.substr(0, colon);
    auto port = authority.substr(colon + 1);
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || p != port.data() + port.size() || value == 0 || value > 65535)
      return std::nullopt;
    ep.port = static_cast<uint16_t>(value);
  }
  if (host.empty())
    return std::nullopt;
  ep.host = host;
  return ep;
}

std::string http_response::header(const std::string& name) const {
  for (auto& [k, v] : headers)
    if (k == name)
      return v;
  return {};
}

http_client::http_client(http_endpoint endpoint, std::chrono::milliseconds timeout)
  : endpoint_(std::move(endpoint)), timeout_(timeout) {
  // nop
}

outcome<http_response>
http_client::request(const std::string& method, const std::string& path,
                     const std::vector<std::pair<std::string, std::string>>& headers,
                     const body_sink& sink) {
  return exchange(method, path, headers, 0, nullptr, &sink);
}

outcome<http_response>
http_client::upload(const std::string& method, const std::string& path,
                    const std::vector<std::pair<std::string, std::string>>& headers,
                    uint64_t length, const body_source& source) {
  return exchange(method, path, headers, length, &source, nullptr);
}

outcome<http_response>
http_client::exchange(const std::string& method, const std::string& path,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      uint64_t length, const body_source* source, const body_sink* sink) {
  auto fd = connect_to(endpoint_, timeout_);
  if (!fd)
    return fd.error();
  socket_io io(*fd, timeout_);
  std::string head = method + " " + endpoint_.prefix + path + " HTTP/1.1\r\n";
  auto host = endpoint_.host.find(':') == std::string::npos ? endpoint_.host
                                                             : "[" + endpoint_.host + "]";
  head += "Host: " + host + ":" + std::to_string(endpoint_.port) + "\r\n";
  head += "User-Agent: parley-client\r\nConnection: close\r\n";
  for (auto& [k, v] : headers)
    head += k + ": " + v + "\r\n";
  if (source != nullptr) {
    head += "Content-Length: " + std::to_string(length) + "\r\n";
    if (length > 0)
      head += "Expect: 100-continue\r\n";
  }
  head += "\r\n";
  if (auto ok = io.write(head.data(), head.size()); !ok)
    return ok.error();
  if (source != nullptr && length > 0) {
    // A refusal comes now, before the body; "100 Continue" (or silence) says go on.
    auto ready = io.readable(continue_wait);
    if (!ready)
      return ready.error();
    if (*ready) {
      auto first = read_any_head(io);
      if (!first)
        return first.error();
      if (first->status >= 200) {
        if (auto body = read_body(io, method, *first, nullptr); !body)
          return body.error();
        return first;
      }
    }
    std::vector<char> buf(chunk);
    uint64_t sent = 0;
    while (sent < length) {
      // An answer while we send means the server stopped reading: take it.
      pollfd p{io.fd(), POLLIN, 0};
      if (::poll(&p, 1, 0) > 0)
        break;
      auto n = (*source)(buf.data(),
                         static_cast<size_t>(std::min<uint64_t>(buf.size(), length - sent)));
      if (!n)
        return n.error();
      if (*n == 0)
        return failure{failure::kind::local, wire::ErrorCode::INTERNAL,
                       "the upload's source ended early"};
      if (auto ok = io.write(buf.data(), *n); !ok) {
        // The server may have answered and closed: its answer says why.
        auto res = read_head(io);
        if (!res)
          return ok.error();
        if (auto body = read_body(io, method, *res, nullptr); !body)
          return body.error();
        return res;
      }
      sent += *n;
    }
  }
  auto res = read_head(io);
  if (!res)
    return res.error();
  if (auto body = read_body(io, method, *res, sink); !body)
    return body.error();
  return res;
}

} // namespace parley::client
