// Test helpers for running real programs: a command with its output and exit
// code, and free loopback ports for scripts that need several at fixed offsets.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

namespace parley::test {

struct command_result {
  int exit_code = -1;
  std::string out;  // standard output (and error, if the command joins them)
};

/// Runs a shell command, capturing its standard output.
command_result run_command(const std::string& cmd);

/// A base port such that base + each offset is free on 127.0.0.1 now (for
/// deploy/local-cluster.sh, which puts its services at fixed offsets).
uint16_t free_base(std::initializer_list<int> offsets);

} // namespace parley::test
