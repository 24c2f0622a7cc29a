// The cluster cookie: two members (or a member and parley-shell, as "shell")
// prove to each other that they hold the cluster's shared secret, on a freshly
// connected socket, before a single byte of anything else is spoken (for peers:
// CAF's distribution protocol, BASP, which has no authentication).
//
//   connector -> acceptor   magic, version, connector name, nonce_c
//   acceptor  -> connector  acceptor name, nonce_a, HMAC(k, "acceptor" | transcript)
//   connector -> acceptor   HMAC(k, "connector" | transcript)
//
// k = SHA-256(secret); transcript = nonce_c | nonce_a | connector name | acceptor
// name. Each side checks the other's MAC in constant time and closes on any
// mismatch, malformed field or timeout.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace parley {

struct handshake_result {
  bool ok = false;
  std::string peer;   // the other member's name
  std::string error;  // why not, if !ok
};

/// Runs the connector's side on the blocking socket `fd`; `expected_peer` is the
/// member it meant to reach ("": any, as the admin shell does).
handshake_result handshake_as_connector(int fd, const std::string& self,
                                        const std::string& expected_peer,
                                        const std::string& secret,
                                        std::chrono::milliseconds timeout);

/// Runs the acceptor's side; the connector must be one of `members`.
handshake_result handshake_as_acceptor(int fd, const std::string& self,
                                       const std::vector<std::string>& members,
                                       const std::string& secret,
                                       std::chrono::milliseconds timeout);

} // namespace parley
