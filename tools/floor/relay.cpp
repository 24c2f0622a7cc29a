// The relay floor: W3's traffic through a server that only relays it.
#include "tools/floor/floor.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

namespace parley::floor {

namespace {

constexpr size_t frame = 100;
constexpr uint32_t hello = 0xffffffff;   // a frame's destination: "I am `from`"

// A frame: destination index (4) | sender index (4) | send time, ns (8) | zeros.
struct header {
  uint32_t to;
  uint32_t from;
  int64_t sent_ns;
};

void put(char* f, const header& h) {
  std::memset(f, 0, frame);
  std::memcpy(f, &h, sizeof(h));
}

header get(const char* f) {
  header h{};
  std::memcpy(&h, f, sizeof(h));
  return h;
}

/// Relays every frame to the connection it names. With a file, one wakeup's
/// frames are appended to it and fdatasynced before any is relayed.
[[noreturn]] void serve(int listener, int connections, const std::string& sync_file) {
  int wal = sync_file.empty() ? -1 : open(sync_file.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0600);
  struct conn {
    size_t have = 0;
    char buf[frame * 8];
  };
  std::vector<conn> conns(connections);
  std::vector<int> fd_of(connections, -1);  // by the index the client gave
  std::vector<char> out;                     // this turn's frames
  std::vector<int> out_fd;                   // and where each goes
  serve_connections(
    listener, connections,
    [&](uint32_t index, int fd) {
      auto& c = conns[index];
      auto n = read(fd, c.buf + c.have, sizeof(c.buf) - c.have);
      if (n <= 0)
        return;
      c.have += static_cast<size_t>(n);
      size_t at = 0;
      for (; c.have - at >= frame; at += frame) {
        auto h = get(c.buf + at);
        if (h.to == hello) {
          if (h.from < fd_of.size())
            fd_of[h.from] = fd;
        } else if (h.to < fd_of.size() && fd_of[h.to] >= 0) {
          out.insert(out.end(), c.buf + at, c.buf + at + frame);
          out_fd.push_back(fd_of[h.to]);
        }
      }
      std::memmove(c.buf, c.buf + at, c.have - at);
      c.have -= at;
    },
    [&] {
      if (!out.empty() && wal >= 0) {
        if (write(wal, out.data(), out.size()) != static_cast<ssize_t>(out.size())
            || fdatasync(wal) != 0)
          std::_Exit(3);
      }
      for (size_t i = 0; i < out_fd.size(); ++i)
        (void) !write(out_fd[i], out.data() + i * frame, frame);
      out.clear();
      out_fd.clear();
    });
}

/// Connection i sends to i + n/2 (mod n), all of them in turn at fixed times;
/// latency is send to receipt, schedule lag how late each send went out.
int drive(uint16_t port, const relay_options& o, int64_t& items) {
  int n = o.connections;
  std::vector<int> fds(n);
  int ep = epoll_create1(0);
  for (int i = 0; i < n; ++i) {
    fds[i] = connect_loopback(port, i);
    int flags = fcntl(fds[i], F_GETFL);
    fcntl(fds[i], F_SETFL, flags & ~O_NONBLOCK);  // the hello waits for the connect
    char f[frame];
    put(f, header{hello, static_cast<uint32_t>(i), 0});
    if (write(fds[i], f, frame) != static_cast<ssize_t>(frame)) {
      std::perror("parley-floor: hello");
      return 2;
    }
    fcntl(fds[i], F_SETFL, flags | O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = static_cast<uint32_t>(i);
    epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
  }
  usleep(500000);  // every hello in
  auto total = static_cast<size_t>(o.rate * o.seconds);
  bench::histogram latency, lag;
  std::vector<char> in(static_cast<size_t>(n) * frame);
  std::vector<size_t> have(n);
  auto gap = static_cast<int64_t>(1e9 / o.rate);
  auto start = now_ns() + 1000000;
  auto give_up = start + static_cast<int64_t>(o.seconds * 1e9) + 2000000000;
  size_t sent = 0;
  std::vector<epoll_event> events(512);
  while (latency.count() < total && now_ns() < give_up) {
    for (auto now = now_ns(); sent < total && start + static_cast<int64_t>(sent) * gap <= now; ++sent) {
      int i = static_cast<int>(sent % static_cast<size_t>(n));
      char f[frame];
      auto t = now_ns();
      put(f, header{static_cast<uint32_t>((i + n / 2) % n), static_cast<uint32_t>(i), t});
      if (write(fds[i], f, frame) != static_cast<ssize_t>(frame)) {
        std::fprintf(stderr, "parley-floor: a send did not fit its socket\n");
        return 2;
      }
      lag.record(t - (start + static_cast<int64_t>(sent) * gap));
    }
    auto next = sent < total ? start + static_cast<int64_t>(sent) * gap : now_ns() + 10000000;
    auto wait = std::max<int64_t>(0, next - now_ns());
    timespec ts{wait / 1000000000, wait % 1000000000};
    int k = epoll_pwait2(ep, events.data(), static_cast<int>(events.size()), &ts, nullptr);
    for (int e = 0; e < k; ++e) {
      auto i = events[e].data.u32;
      char* b = in.data() + size_t{i} * frame;
      auto r = read(fds[i], b + have[i], frame - have[i]);
      if (r <= 0)
        continue;
      have[i] += static_cast<size_t>(r);
      if (have[i] == frame) {
        have[i] = 0;
        latency.record(now_ns() - get(b).sent_ns);
      }
    }
  }
  items = static_cast<int64_t>(latency.count());
  std::printf("sent %zu received %zu\n", sent, static_cast<size_t>(latency.count()));
  std::printf("latency %s\n", percentiles(latency).c_str());
  std::printf("schedule_lag %s\n", percentiles(lag).c_str());
  return latency.count() == total ? 0 : 1;
}

} // namespace

int relay(const cpus& where, const relay_options& o) {
  std::printf("relay floor: %d connections, %.0f msg/s for %.1f s, %s\n", o.connections, o.rate,
              o.seconds, o.sync_file.empty() ? "no fsync" : "fdatasync per wakeup");
  std::fflush(stdout);
  auto rc = run_split(
    where, [&](int listener) { serve(listener, o.connections, o.sync_file); },
    [&](uint16_t port, int64_t& items) { return drive(port, o, items); }, "message");
  if (!o.sync_file.empty())
    unlink(o.sync_file.c_str());
  return rc;
}

} // namespace parley::floor
