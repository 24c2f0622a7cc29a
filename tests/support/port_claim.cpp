#include "support/port_claim.hpp"

#include <fcntl.h>
#include <map>
#include <mutex>
#include <netinet/in.h>
#include <random>
#include <string>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace parley::test {

namespace {

// Shared by every test process on the machine, whoever runs it.
constexpr const char* claims_dir = "/tmp/parley-test-ports";

std::mutex claims_mutex;
std::map<uint16_t, int> claims;  // port -> the locked file, open until exit

bool bindable(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

} // namespace

bool claim_free_port(uint16_t port) {
  std::lock_guard<std::mutex> guard(claims_mutex);
  if (claims.count(port) != 0)
    return false;  // already ours, handed out before
  if (::mkdir(claims_dir, 01777) == 0)
    ::chmod(claims_dir, 01777);  // past the umask: for test runs of any user
  auto path = std::string(claims_dir) + "/" + std::to_string(port);
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0)
    return false;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0 || !bindable(port)) {
    ::close(fd);  // also drops the lock if it was taken
    return false;
  }
  claims.emplace(port, fd);
  return true;
}

uint16_t claim_some_port() {
  static std::mt19937 random(std::random_device{}());
  std::uniform_int_distribution<int> pick(20000, 32767);
  for (int attempt = 0; attempt < 200; ++attempt) {
    auto port = static_cast<uint16_t>(pick(random));
    if (claim_free_port(port))
      return port;
  }
  return 0;
}

void release_port(uint16_t port) {
  std::lock_guard<std::mutex> guard(claims_mutex);
  auto i = claims.find(port);
  if (i == claims.end())
    return;
  ::close(i->second);
  claims.erase(i);
}

} // namespace parley::test
