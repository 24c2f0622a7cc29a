#include "actors/cluster/links.hpp"

#include "actors/cluster/handshake.hpp"
#include "actors/log.hpp"
#include "actors/messages.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/io/basp_broker.hpp>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

namespace parley {

namespace {

caf::actor basp_broker(caf::actor_system& sys) {
  return sys.middleman().named_broker<caf::io::basp_broker>(caf::atom("BASP"));
}

/// Connects with a deadline; returns a blocking socket or -1.
int connect_with_timeout(const std::string& host, uint16_t port,
                         std::chrono::milliseconds timeout, std::string& error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  auto service = std::to_string(port);
  if (auto rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    error = gai_strerror(rc);
    return -1;
  }
  int result = -1;
  for (auto* ai = found; ai != nullptr && result < 0; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                      ai->ai_protocol);
    if (fd < 0)
      continue;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
      error = std::strerror(errno);
      ::close(fd);
      continue;
    }
    pollfd p{fd, POLLOUT, 0};
    int soerr = 0;
    socklen_t len = sizeof(soerr);
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1
        || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 || soerr != 0) {
      error = soerr != 0 ? std::strerror(soerr) : "timeout";
      ::close(fd);
      continue;
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    result = fd;
  }
  ::freeaddrinfo(found);
  return result;
}

} // namespace

caf::expected<int> open_peer_listener(const std::string& host, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  auto service = std::to_string(port);
  if (auto rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0)
    return caf::make_error(caf::sec::cannot_open_port, host + ": " + gai_strerror(rc));
  std::string error = "no address";
  int result = -1;
  for (auto* ai = found; ai != nullptr && result < 0; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
      continue;
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, 64) != 0) {
      error = std::strerror(errno);
      ::close(fd);
      continue;
    }
    result = fd;
  }
  ::freeaddrinfo(found);
  if (result < 0)
    return caf::make_error(caf::sec::cannot_open_port,
                           host + ":" + service + ": " + error);
  return result;
}

caf::actor spawn_gate(caf::actor_system& sys, int listen_fd, uint16_t port,
                      link_config config, caf::actor membership_handle) {
  // Weak: the gate must not keep the membership actor (and all it knows) alive.
  auto membership = caf::actor_cast<caf::actor_addr>(membership_handle);
  // The fd goes as an argument: CAF 0.17 runs an actor function spawned
  // without arguments through a null pointer (UBSan reports it).
  auto gate = [=](caf::blocking_actor* self, int listen_fd) {
    pthread_setname_np(pthread_self(), "parley.gate");
    auto basp = basp_broker(self->system());
    bool running = true;
    // Stops at once: no peer may link in after this answers.
    auto on_stop = [&](stop_atom) {
      running = false;
      return caf::ok_atom::value;
    };
    while (running) {
      pollfd p{listen_fd, POLLIN, 0};
      if (::poll(&p, 1, 200) == 1) {
        int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) {
          auto hs = handshake_as_acceptor(fd, config.self, config.members,
                                          config.secret, config.handshake_timeout);
          auto whom = caf::actor_cast<caf::strong_actor_ptr>(membership);
          if (hs.ok && whom) {
            log(log_level::info, "cluster: ", hs.peer, " connected to us");
            auto scribe = self->system().middleman().backend().new_scribe(fd);
            self->send(basp, caf::publish_atom::value, std::move(scribe), port,
                       std::move(whom), std::set<std::string>{});
          } else {
            if (!hs.ok)
              log(log_level::warning, "cluster: refused a peer: ", hs.error);
            ::close(fd);
          }
        }
      }
      self->receive(on_stop, caf::after(std::chrono::seconds(0)) >> [] {});
    }
    ::close(listen_fd);
  };
  return sys.spawn<caf::detached>(gate, listen_fd);
}

void spawn_connector(caf::actor_system& sys, const std::string& peer,
                     const std::string& host, uint16_t port, link_config config,
                     caf::actor membership) {
  // The peer goes as an argument (see spawn_gate).
  auto dial = [=](caf::blocking_actor* self, const std::string& peer) {
    pthread_setname_np(pthread_self(), "parley.dial");
    auto fail = [&](const std::string& why) {
      self->send(membership, link_failed_atom::value, peer, why);
    };
    std::string error;
    int fd = connect_with_timeout(host, port, config.handshake_timeout, error);
    if (fd < 0)
      return fail("cannot connect to " + host + ":" + std::to_string(port) + ": "
                  + error);
    auto hs = handshake_as_connector(fd, config.self, peer, config.secret,
                                     config.handshake_timeout);
    if (!hs.ok) {
      ::close(fd);
      return fail(hs.error);
    }
    auto scribe = self->system().middleman().backend().new_scribe(fd);
    self
      ->request(basp_broker(self->system()), std::chrono::seconds(5),
                caf::connect_atom::value, std::move(scribe), port)
      .receive(
        [&](caf::node_id& nid, caf::strong_actor_ptr& remote,
            std::set<std::string>&) {
          if (nid == self->system().node())
            return fail(peer + " has this node's CAF node id; refusing the link");
          if (!remote)
            return fail(peer + " published no membership actor");
          self->send(membership, connected_atom::value, peer,
                     caf::actor_cast<caf::actor>(remote));
        },
        [&](caf::error& err) { fail("BASP handshake failed: " + self->system().render(err)); });
  };
  sys.spawn<caf::detached>(dial, peer);
}

} // namespace parley
