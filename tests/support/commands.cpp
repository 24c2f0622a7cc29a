#include "support/commands.hpp"

#include "support/port_claim.hpp"

#include <catch2/catch.hpp>

#include <cstdio>
#include <vector>
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
    std::vector<uint16_t> claimed;
    for (int off : offsets) {
      auto port = static_cast<uint16_t>(base + off);
      if (!claim_free_port(port))
        break;
      claimed.push_back(port);
    }
    if (claimed.size() == offsets.size())
      return base;
    for (auto port : claimed)
      release_port(port);
  }
  FAIL("no free ports");
  return 0;
}

} // namespace parley::test
