#include "tools/floor/floor.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <vector>

namespace parley::floor {

namespace {

[[noreturn]] void die(const char* what) {
  std::perror(what);
  std::exit(2);
}

void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof(set), &set) != 0)
    die("sched_setaffinity");
}

/// 10,000 connections need more descriptors than a shell's usual 1,024.
void raise_fd_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

sockaddr_in loopback(uint32_t host, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(host);
  return a;
}

} // namespace

int64_t now_ns() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return int64_t{t.tv_sec} * 1000000000 + t.tv_nsec;
}

int listen_loopback(uint16_t& port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  auto a = loopback(0x7f000001, 0);
  socklen_t size = sizeof(a);
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0
      || listen(fd, 4096) != 0
      || getsockname(fd, reinterpret_cast<sockaddr*>(&a), &size) != 0)
    die("listen on 127.0.0.1");
  port = ntohs(a.sin_port);
  return fd;
}

int connect_loopback(uint16_t port, int i) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  auto from = loopback(0x7f000001 + static_cast<uint32_t>(i % 16), 0);
  auto to = loopback(0x7f000001, port);
  if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) != 0
      || bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof(from)) != 0)
    die("socket");
  if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0 && errno != EINPROGRESS)
    die("connect");
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

int64_t cpu_ns(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/schedstat");
  int64_t ns = 0;
  in >> ns;
  return ns;
}

int run_split(const cpus& where, const std::function<void(int listener)>& serve,
              const std::function<int(uint16_t port, int64_t& items)>& drive,
              const char* per) {
  raise_fd_limit();
  int ready[2];
  if (pipe(ready) != 0)
    die("pipe");
  pid_t server = fork();
  if (server < 0)
    die("fork");
  if (server == 0) {
    close(ready[0]);
    pin(where.server);
    uint16_t port = 0;
    int listener = listen_loopback(port);
    if (write(ready[1], &port, sizeof(port)) != sizeof(port))
      die("write");
    serve(listener);
    std::_Exit(0);
  }
  close(ready[1]);  // a server that dies before it listens ends the read
  pin(where.client);
  uint16_t port = 0;
  if (read(ready[0], &port, sizeof(port)) != sizeof(port)) {
    std::fprintf(stderr, "parley-floor: the server did not start\n");
    return 2;
  }
  auto before = cpu_ns(server);
  int64_t items = 0;
  int rc = drive(port, items);
  auto used = cpu_ns(server) - before;
  std::printf("server cpu %.3f s, %.1f us per %s\n", used / 1e9,
              items > 0 ? used / 1e3 / static_cast<double>(items) : 0.0, per);
  kill(server, SIGKILL);
  waitpid(server, nullptr, 0);
  return rc;
}

void serve_connections(int listener, int limit,
                       const std::function<void(uint32_t index, int fd)>& readable,
                       const std::function<void()>& turn_done) {
  constexpr uint32_t listener_tag = 0xffffffff;
  std::vector<int> fds;
  fds.reserve(static_cast<size_t>(limit));
  int ep = epoll_create1(0);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u32 = listener_tag;
  epoll_ctl(ep, EPOLL_CTL_ADD, listener, &ev);
  std::vector<epoll_event> events(512);
  for (;;) {
    int k = epoll_wait(ep, events.data(), static_cast<int>(events.size()), -1);
    for (int e = 0; e < k; ++e) {
      auto index = events[e].data.u32;
      if (index != listener_tag) {
        readable(index, fds[index]);
        continue;
      }
      int fd;
      while (static_cast<int>(fds.size()) < limit
             && (fd = accept4(listener, nullptr, nullptr, SOCK_NONBLOCK)) >= 0) {
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        ev.data.u32 = static_cast<uint32_t>(fds.size());
        fds.push_back(fd);
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
      }
    }
    turn_done();
  }
}

std::string percentiles(const bench::histogram& h) {
  if (h.count() == 0)
    return "none";
  auto ms = [&](double percent) { return static_cast<double>(h.percentile(percent)) / 1e6; };
  char text[160];
  std::snprintf(text, sizeof(text), "p50 %.3f p90 %.3f p99 %.3f p99.9 %.3f max %.3f ms",
                ms(50), ms(90), ms(99), ms(99.9), static_cast<double>(h.max()) / 1e6);
  return text;
}

} // namespace parley::floor
