// A plain TCP connection for tests that speak below the client library.
#pragma once

#include <cstdint>

namespace parley::test {

/// A connected socket to 127.0.0.1:`port`; fails the test if it cannot connect.
int connect_loopback(uint16_t port);

} // namespace parley::test
