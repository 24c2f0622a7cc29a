#include "node/client_sockets.hpp"

#include <caf/io/network/acceptor.hpp>
#include <caf/io/network/native_socket.hpp>
#include <caf/io/network/stream.hpp>
#include <caf/io/scribe.hpp>
#include <caf/policy/tcp.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <utility>

namespace parley {

namespace {

using caf::io::network::default_multiplexer;
using caf::io::network::invalid_native_socket;
using caf::io::network::native_socket;
using caf::io::network::operation;
using caf::io::network::rw_state;

/// A peer's address as accept gave it: 28 B a connection, made text only when
/// asked for (at login, for the throttle).
struct peer_address {
  union {
    sockaddr sa;
    sockaddr_in v4;
    sockaddr_in6 v6;
  };

  std::string text() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (sa.sa_family == AF_INET)
      inet_ntop(AF_INET, &v4.sin_addr, buf, sizeof(buf));
    else if (sa.sa_family == AF_INET6)
      inet_ntop(AF_INET6, &v6.sin6_addr, buf, sizeof(buf));
    return buf;
  }

  uint16_t port() const {
    return ntohs(sa.sa_family == AF_INET6 ? v6.sin6_port : v4.sin_port);
  }
};

/// CAF's TCP reads and writes, except that a read that fills less than it
/// was offered ends the reads of this turn instead of one more that says EAGAIN.
struct turn_read_policy {
  bool drained = false;

  rw_state read_some(size_t& result, native_socket fd, void* buf, size_t len) {
    if (drained) {
      result = 0;  // what CAF's read says to EAGAIN: stop reading
      return rw_state::success;
    }
    auto state = caf::policy::tcp::read_some(result, fd, buf, len);
    drained = state == rw_state::success && result > 0 && result < len;
    return state;
  }

  static rw_state write_some(size_t& result, native_socket fd, const void* buf,
                             size_t len) {
    return caf::policy::tcp::write_some(result, fd, buf, len);
  }

  static constexpr bool must_read_more(native_socket, size_t) {
    return false;
  }
};

/// The stream of an accepted client socket, whose flags accept4 set.
class client_stream : public caf::io::network::stream {
public:
  client_stream(default_multiplexer& mpx, native_socket fd)
    : stream(mpx, invalid_native_socket) {
    // Given the socket, the event handler's constructor would set its flags
    // again (two fcntl and a setsockopt); given none, it sets none.
    fd_ = fd;
  }

  void handle_event(operation op) override {
    policy_.drained = false;
    handle_event_impl(op, policy_);
  }

private:
  turn_read_policy policy_;
};

/// What CAF's scribe_impl is, over a client_stream and a kept peer address.
class client_scribe : public caf::io::scribe {
public:
  client_scribe(default_multiplexer& mpx, native_socket fd, const peer_address& peer)
    : scribe(caf::io::network::conn_hdl_from_socket(fd)), stream_(mpx, fd), peer_(peer) {
    // nop
  }

  void configure_read(caf::io::receive_policy::config config) override {
    stream_.configure_read(config);
    if (!launched_) {
      launched_ = true;
      stream_.start(this);
    }
  }

  void ack_writes(bool enable) override {
    stream_.ack_writes(enable);
  }

  std::vector<char>& wr_buf() override {
    return stream_.wr_buf();
  }

  std::vector<char>& rd_buf() override {
    return stream_.rd_buf();
  }

  void graceful_shutdown() override {
    stream_.graceful_shutdown();
    detach(&stream_.backend(), false);
  }

  void flush() override {
    stream_.flush(this);
  }

  std::string addr() const override {
    return peer_.text();
  }

  uint16_t port() const override {
    return peer_.port();
  }

  void add_to_loop() override {
    stream_.activate(this);
  }

  void remove_from_loop() override {
    stream_.passivate();
  }

private:
  bool launched_ = false;
  client_stream stream_;
  peer_address peer_;
};

/// Accepts with accept4, so the new socket is non-blocking and close-on-exec
/// from the start, and keeps the peer's address accept gives anyway.
struct accept4_policy {
  peer_address peer{};

  bool try_accept(native_socket& result, native_socket fd) {
    socklen_t len = sizeof(peer);
    result = ::accept4(fd, &peer.sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (result < 0) {
      result = invalid_native_socket;
      return false;  // as CAF's: nothing to accept, or the error comes again
    }
    int on = 1;
    ::setsockopt(result, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    return true;
  }
};

class client_acceptor : public caf::io::network::acceptor {
public:
  using acceptor::acceptor;

  void handle_event(operation op) override {
    handle_event_impl(op, policy_);
  }

  const peer_address& peer() const {
    return policy_.peer;
  }

private:
  accept4_policy policy_;
};

/// What CAF's doorman_impl is, over a client_acceptor and making client_scribes.
class client_doorman_impl : public caf::io::doorman {
public:
  client_doorman_impl(default_multiplexer& mpx, native_socket fd)
    : doorman(caf::io::network::accept_hdl_from_socket(fd)), acceptor_(mpx, fd) {
    // nop
  }

  bool new_connection() override {
    // The broker may have let go of this doorman while the loop still had
    // events for it (CAF's doorman_impl says the same).
    if (detached())
      return false;
    auto& mpx = acceptor_.backend();
    auto scribe = caf::make_counted<client_scribe>(mpx, acceptor_.accepted_socket(),
                                                   acceptor_.peer());
    auto hdl = scribe->hdl();
    parent()->add_scribe(std::move(scribe));
    return doorman::new_connection(&mpx, hdl);
  }

  void graceful_shutdown() override {
    acceptor_.graceful_shutdown();
    detach(&acceptor_.backend(), false);
  }

  void launch() override {
    acceptor_.start(this);
  }

  std::string addr() const override {
    auto addr = caf::io::network::local_addr_of_fd(acceptor_.fd());
    return addr ? std::move(*addr) : std::string{};
  }

  uint16_t port() const override {
    auto port = caf::io::network::local_port_of_fd(acceptor_.fd());
    return port ? *port : 0;
  }

  void add_to_loop() override {
    acceptor_.activate(this);
  }

  void remove_from_loop() override {
    acceptor_.passivate();
  }

private:
  client_acceptor acceptor_;
};

} // namespace

caf::expected<caf::io::doorman_ptr> client_doorman(default_multiplexer& mpx, uint16_t port,
                                                   const std::string& host) {
  auto fd = caf::io::network::new_tcp_acceptor_impl(port, host.c_str(), true);
  if (!fd)
    return std::move(fd.error());
  return caf::io::doorman_ptr{caf::make_counted<client_doorman_impl>(mpx, *fd)};
}

} // namespace parley
