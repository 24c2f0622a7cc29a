// The login floor: W1's logins against a server that does only their bare work.
#include "tools/floor/floor.hpp"

#include "actors/session/nonce_source.hpp"

#include <sodium.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <vector>

namespace parley::floor {

namespace {

constexpr size_t key_bytes = crypto_sign_PUBLICKEYBYTES;     // 32
constexpr size_t nonce_bytes = 32;
constexpr size_t signature_bytes = crypto_sign_BYTES;        // 64

/// Per connection: read the key, send a nonce (from parley-node's own
/// nonce_source), read the signature, verify, send 'W' (or 'E').
[[noreturn]] void serve(int listener, int count) {
  struct conn {
    size_t have = 0;
    bool challenged = false;
    std::array<unsigned char, key_bytes + signature_bytes> buf;
    std::array<unsigned char, nonce_bytes> nonce;
  };
  std::vector<conn> conns(count);
  nonce_source nonces;
  serve_connections(
    listener, count,
    [&](uint32_t index, int fd) {
      auto& c = conns[index];
      size_t want = c.challenged ? key_bytes + signature_bytes : key_bytes;
      auto n = read(fd, c.buf.data() + c.have, want - c.have);
      if (n <= 0 || (c.have += static_cast<size_t>(n)) < want)
        return;
      if (!c.challenged) {
        nonces.fill(c.nonce.data(), c.nonce.size());
        (void) !write(fd, c.nonce.data(), c.nonce.size());
        c.challenged = true;
      } else {
        bool good = crypto_sign_verify_detached(c.buf.data() + key_bytes, c.nonce.data(),
                                                c.nonce.size(), c.buf.data()) == 0;
        (void) !write(fd, good ? "W" : "E", 1);
      }
    },
    [] {});
}

/// Logs in `count` connections, at most `window` under way; all stay open.
int drive(uint16_t port, const login_options& o, int64_t& items) {
  std::array<unsigned char, key_bytes> pk;
  std::array<unsigned char, crypto_sign_SECRETKEYBYTES> sk;
  crypto_sign_keypair(pk.data(), sk.data());
  enum class stage { connecting, challenged, proved, done };
  struct conn {
    int fd = -1;
    stage at = stage::connecting;
    size_t have = 0;
    std::array<unsigned char, nonce_bytes> buf;
  };
  std::vector<conn> conns(o.count);
  int ep = epoll_create1(0);
  std::vector<epoll_event> events(512);
  int started = 0, done = 0, under_way = 0;
  auto t0 = now_ns();
  while (done < o.count) {
    for (; under_way < o.window && started < o.count; ++started, ++under_way) {
      conns[started].fd = connect_loopback(port, started);
      epoll_event ev{};
      ev.events = EPOLLOUT;
      ev.data.u32 = static_cast<uint32_t>(started);
      epoll_ctl(ep, EPOLL_CTL_ADD, conns[started].fd, &ev);
    }
    int k = epoll_wait(ep, events.data(), static_cast<int>(events.size()), 2000);
    if (k == 0) {
      std::fprintf(stderr, "parley-floor: no login progressed in 2 s\n");
      return 2;
    }
    for (int e = 0; e < k; ++e) {
      auto& c = conns[events[e].data.u32];
      if (c.at == stage::connecting) {
        (void) !write(c.fd, pk.data(), pk.size());
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = events[e].data.u32;
        epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
        c.at = stage::challenged;
        continue;
      }
      size_t want = c.at == stage::challenged ? nonce_bytes : 1;
      auto n = read(c.fd, c.buf.data() + c.have, want - c.have);
      if (n <= 0 || (c.have += static_cast<size_t>(n)) < want)
        continue;
      c.have = 0;
      if (c.at == stage::challenged) {
        unsigned char signature[signature_bytes];
        crypto_sign_detached(signature, nullptr, c.buf.data(), nonce_bytes, sk.data());
        (void) !write(c.fd, signature, sizeof(signature));
        c.at = stage::proved;
      } else {
        if (c.buf[0] != 'W') {
          std::fprintf(stderr, "parley-floor: a login proof was refused\n");
          return 1;
        }
        epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
        c.at = stage::done;
        ++done;
        --under_way;
      }
    }
  }
  auto seconds = (now_ns() - t0) / 1e9;
  items = done;
  std::printf("logins %d in %.3f s: %.0f /s\n", done, seconds, done / seconds);
  return 0;
}

} // namespace

int logins(const cpus& where, const login_options& o) {
  std::printf("login floor: %d logins, %d under way at most\n", o.count, o.window);
  std::fflush(stdout);
  return run_split(
    where, [&](int listener) { serve(listener, o.count); },
    [&](uint16_t port, int64_t& items) { return drive(port, o, items); }, "login");
}

} // namespace parley::floor
