#include "actors/cluster/handshake.hpp"

#include <sodium.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <poll.h>
#include <sys/socket.h>

namespace parley {

namespace {

using clock = std::chrono::steady_clock;

constexpr char magic[4] = {'P', 'R', 'L', 'Y'};
constexpr uint8_t version = 1;
constexpr size_t nonce_size = 32;
constexpr size_t mac_size = crypto_auth_hmacsha256_BYTES;
constexpr size_t max_name = 64;

/// Reads or writes exactly `size` bytes before `deadline`.
bool transfer(int fd, char* buf, size_t size, bool writing, clock::time_point deadline) {
  size_t done = 0;
  while (done < size) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline
                                                                      - clock::now());
    if (left.count() <= 0)
      return false;
    pollfd p{fd, static_cast<short>(writing ? POLLOUT : POLLIN), 0};
    auto rc = ::poll(&p, 1, static_cast<int>(left.count()));
    if (rc < 0 && errno == EINTR)
      continue;
    if (rc <= 0)
      return false;
    auto n = writing ? ::send(fd, buf + done, size - done, MSG_NOSIGNAL)
                     : ::recv(fd, buf + done, size - done, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
      continue;
    if (n <= 0)
      return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

bool send_all(int fd, const std::string& bytes, clock::time_point deadline) {
  std::string copy = bytes;
  return transfer(fd, copy.data(), copy.size(), true, deadline);
}

bool recv_exact(int fd, std::string& out, size_t size, clock::time_point deadline) {
  out.assign(size, '\0');
  return transfer(fd, out.data(), size, false, deadline);
}

/// A name as one length byte and its bytes.
std::string encode_name(const std::string& name) {
  std::string out(1, static_cast<char>(name.size()));
  return out + name;
}

bool recv_name(int fd, std::string& name, clock::time_point deadline) {
  std::string len;
  if (!recv_exact(fd, len, 1, deadline))
    return false;
  auto n = static_cast<uint8_t>(len[0]);
  if (n == 0 || n > max_name)
    return false;
  return recv_exact(fd, name, n, deadline);
}

std::string random_nonce() {
  std::string nonce(nonce_size, '\0');
  randombytes_buf(nonce.data(), nonce.size());
  return nonce;
}

std::string mac(const std::string& secret, const char* role, const std::string& nonce_c,
                const std::string& nonce_a, const std::string& connector,
                const std::string& acceptor) {
  unsigned char key[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(key, reinterpret_cast<const unsigned char*>(secret.data()),
                     secret.size());
  std::string transcript = std::string(role) + '\0' + nonce_c + nonce_a
                           + encode_name(connector) + encode_name(acceptor);
  std::string out(mac_size, '\0');
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key, sizeof(key));
  crypto_auth_hmacsha256_update(&st,
                                reinterpret_cast<const unsigned char*>(transcript.data()),
                                transcript.size());
  crypto_auth_hmacsha256_final(&st, reinterpret_cast<unsigned char*>(out.data()));
  sodium_memzero(key, sizeof(key));
  return out;
}

bool same_mac(const std::string& a, const std::string& b) {
  return a.size() == mac_size && b.size() == mac_size
         && crypto_verify_32(reinterpret_cast<const unsigned char*>(a.data()),
                             reinterpret_cast<const unsigned char*>(b.data()))
              == 0;
}

handshake_result fail(std::string why) {
  return handshake_result{false, {}, std::move(why)};
}

} // namespace

handshake_result handshake_as_connector(int fd, const std::string& self,
                                        const std::string& expected_peer,
                                        const std::string& secret,
                                        std::chrono::milliseconds timeout) {
  auto deadline = clock::now() + timeout;
  auto nonce_c = random_nonce();
  std::string hello(magic, sizeof(magic));
  hello += static_cast<char>(version);
  hello += encode_name(self);
  hello += nonce_c;
  if (!send_all(fd, hello, deadline))
    return fail("cannot send hello");
  std::string peer, nonce_a, their_mac;
  if (!recv_name(fd, peer, deadline) || !recv_exact(fd, nonce_a, nonce_size, deadline)
      || !recv_exact(fd, their_mac, mac_size, deadline))
    return fail("no valid answer (not a parley node, or it refused us)");
  if (!expected_peer.empty() && peer != expected_peer)
    return fail("reached " + peer + " instead of " + expected_peer);
  if (!same_mac(their_mac, mac(secret, "acceptor", nonce_c, nonce_a, self, peer)))
    return fail(peer + " does not know the cluster secret");
  if (!send_all(fd, mac(secret, "connector", nonce_c, nonce_a, self, peer), deadline))
    return fail("cannot send proof");
  return handshake_result{true, peer, {}};
}

handshake_result handshake_as_acceptor(int fd, const std::string& self,
                                       const std::vector<std::string>& members,
                                       const std::string& secret,
                                       std::chrono::milliseconds timeout) {
  auto deadline = clock::now() + timeout;
  std::string head, peer, nonce_c;
  if (!recv_exact(fd, head, sizeof(magic) + 1, deadline)
      || std::memcmp(head.data(), magic, sizeof(magic)) != 0
      || static_cast<uint8_t>(head[4]) != version)
    return fail("not a parley cluster hello");
  if (!recv_name(fd, peer, deadline) || !recv_exact(fd, nonce_c, nonce_size, deadline))
    return fail("truncated hello");
  if (peer == self || std::find(members.begin(), members.end(), peer) == members.end())
    return fail("'" + peer + "' is not a member of this cluster");
  auto nonce_a = random_nonce();
  auto answer = encode_name(self) + nonce_a
                + mac(secret, "acceptor", nonce_c, nonce_a, peer, self);
  if (!send_all(fd, answer, deadline))
    return fail("cannot answer");
  std::string their_mac;
  if (!recv_exact(fd, their_mac, mac_size, deadline))
    return fail(peer + " sent no proof (wrong cluster secret?)");
  if (!same_mac(their_mac, mac(secret, "connector", nonce_c, nonce_a, peer, self)))
    return fail(peer + " does not know the cluster secret");
  return handshake_result{true, peer, {}};
}

} // namespace parley
