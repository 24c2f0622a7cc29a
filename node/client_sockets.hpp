// How the listener accepts and reads client connections: CAF's own doorman and
// scribe, minus system calls a login or a message does not need.
//
// CAF 0.17's doorman accepts with accept() and then makes six more calls: it
// reads and sets close-on-exec and non-blocking (fcntl) and sets TCP_NODELAY
// and SO_KEEPALIVE. Its scribe asks the kernel for the peer's address each
// time it is wanted, and reads a ready socket until recv says EAGAIN. Here
// accept4 sets the flags with the accept, TCP_NODELAY is the one call left
// (parley's heartbeats find dead peers, so no keepalive), the peer's address
// is kept from the accept, and a read that fills less than the buffer ends the
// turn's reads: the socket had no more, and epoll (level-triggered) reports
// anything that comes after it.
#pragma once

#include <caf/expected.hpp>
#include <caf/io/doorman.hpp>
#include <caf/io/network/default_multiplexer.hpp>

#include <cstdint>
#include <string>

namespace parley {

/// A doorman listening on `host`:`port` (0: any free port), whose connections
/// are read as described above.
caf::expected<caf::io::doorman_ptr>
client_doorman(caf::io::network::default_multiplexer& mpx, uint16_t port,
               const std::string& host);

} // namespace parley
