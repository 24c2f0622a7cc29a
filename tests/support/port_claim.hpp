// Loopback ports for tests that must name them before a process binds them
// (nodes started again on their port, cluster members, deploy/local-cluster.sh,
// parley-chaos). They are taken below the kernel's ephemeral range (32768 and
// up by default): a port from there may be handed to an outgoing connection of
// a test running alongside while a killed node is down, and the node could not
// bind it again. And a port that is free when one test looks may be taken a
// moment later by a test running alongside, so every picker also claims the
// port with an exclusive lock on a file named after it, held until the picking
// process exits.
#pragma once

#include <cstdint>

namespace parley::test {

/// Whether 127.0.0.1:port can be bound now and no other test process has
/// claimed it; if so, it is claimed for this process.
bool claim_free_port(uint16_t port);

/// A free port in 20000-32767, claimed for this process; 0 if none was found.
uint16_t claim_some_port();

/// Gives a claim back (for pickers that claimed part of a set and move on).
void release_port(uint16_t port);

} // namespace parley::test
