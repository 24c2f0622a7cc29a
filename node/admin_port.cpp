#include "node/admin_port.hpp"

#include "actors/cluster/handshake.hpp"
#include "actors/cluster/links.hpp"
#include "actors/log.hpp"
#include "actors/messages.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sstream>
#include <sys/socket.h>
#include <unistd.h>

namespace parley {

namespace {

constexpr size_t max_line = 4096;
constexpr auto poll_slice_ms = 200;

/// Serves one shell connection until it closes or the port stops.
void serve_shell(caf::blocking_actor* self, int fd, std::string node_name,
                 std::string secret, caf::actor admin) {
  pthread_setname_np(pthread_self(), "parley.shell");
  auto hs = handshake_as_acceptor(fd, node_name, {"shell"}, secret,
                                  std::chrono::seconds(2));
  if (!hs.ok) {
    log(log_level::warning, "admin: refused a shell: ", hs.error);
    ::close(fd);
    return;
  }
  log(log_level::info, "admin: a shell connected");
  std::string buffer;
  bool running = true;
  while (running) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, poll_slice_ms) == 1) {
      char chunk[1024];
      auto n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n <= 0)
        break;
      buffer.append(chunk, static_cast<size_t>(n));
      for (auto nl = buffer.find('\n'); nl != std::string::npos; nl = buffer.find('\n')) {
        std::istringstream line(buffer.substr(0, nl));
        buffer.erase(0, nl + 1);
        std::vector<std::string> words;
        for (std::string w; line >> w;)
          words.push_back(w);
        std::string reply = "{\"error\":\"the node did not answer\"}";
        self->request(admin, std::chrono::seconds(10), admin_atom::value, words)
          .receive([&](std::string& answer) { reply = std::move(answer); },
                   [](caf::error&) {});
        reply += '\n';
        if (::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL)
            != static_cast<ssize_t>(reply.size()))
          running = false;
      }
      if (buffer.size() > max_line)
        break;  // not a shell speaking lines
    }
    self->receive([&](stop_atom) { running = false; },
                  caf::after(std::chrono::seconds(0)) >> [] {});
  }
  ::close(fd);
}

} // namespace

caf::expected<admin_port_handle> spawn_admin_port(caf::actor_system& sys,
                                                  const std::string& host, uint16_t port,
                                                  const std::string& node_name,
                                                  const std::string& secret,
                                                  caf::actor admin) {
  auto listen_fd = open_peer_listener(host, port);
  if (!listen_fd)
    return std::move(listen_fd.error());
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  ::getsockname(*listen_fd, reinterpret_cast<sockaddr*>(&addr), &len);
  auto bound = ntohs(addr.ss_family == AF_INET6
                       ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                       : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  // The fd goes as an argument: CAF 0.17 runs an actor function spawned
  // without arguments through a null pointer (UBSan reports it).
  auto port_loop = [=](caf::blocking_actor* self, int fd) {
    pthread_setname_np(pthread_self(), "parley.admin");
    std::vector<caf::actor_addr> shells;  // weak: ended ones must not linger
    bool running = true;
    while (running) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, poll_slice_ms) == 1) {
        int conn = ::accept4(fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (conn >= 0) {
          shells.erase(std::remove_if(shells.begin(), shells.end(),
                                      [](auto& a) { return !caf::actor_cast<caf::actor>(a); }),
                       shells.end());
          auto shell = self->spawn<caf::detached>(serve_shell, conn, node_name, secret,
                                                  admin);
          shells.push_back(shell.address());
        }
      }
      self->receive(
        [&](stop_atom) {
          running = false;
          return caf::ok_atom::value;
        },
        caf::after(std::chrono::seconds(0)) >> [] {});
    }
    ::close(fd);
    for (auto& shell : shells)
      if (auto alive = caf::actor_cast<caf::actor>(shell))
        self->send(alive, stop_atom::value);
  };
  auto actor = sys.spawn<caf::detached>(port_loop, *listen_fd);
  return admin_port_handle{actor, bound};
}

} // namespace parley
