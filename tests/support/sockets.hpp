// A plain TCP connection for tests that speak below the client library.
#pragma once

#include <cstdint>
#include <string>

namespace parley::test {

/// A connected socket to 127.0.0.1:`port`; fails the test if it cannot connect.
int connect_loopback(uint16_t port);

/// The whole response (status line, headers, body) to GET `path` from
/// 127.0.0.1:`port`, which closes the connection after answering.
std::string http_get(uint16_t port, const std::string& path);

/// The value of the unlabelled metric line "name value" in `text` (a node's
/// /metrics); fails the test if there is none.
double metric(const std::string& text, const std::string& name);

} // namespace parley::test
