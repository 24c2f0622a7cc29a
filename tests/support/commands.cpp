#include "support/commands.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace parley::test {

command_result run_command(const std::string& cmd) {
  command_result r;
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0)
    r.out.append(buf, n);
  auto status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

uint16_t free_base(std::initializer_list<int> offsets) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    // Below the ephemeral range, spread by process so parallel tests differ.
    auto base = static_cast<uint16_t>(20000 + (::getpid() * 7 + attempt * 211) % 10000);
    bool ok = true;
    for (int off : offsets) {
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<uint16_t>(base + off));
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      ok = ok && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
      ::close(fd);
    }
    if (ok)
      return base;
  }
  FAIL("no free ports");
  return 0;
}

} // namespace parley::test
