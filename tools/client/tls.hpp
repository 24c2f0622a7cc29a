// TLS for a client connection (OpenSSL): the node's load balancer terminates
// it, the client verifies the certificate against the system's roots or a CA
// file, and checks that it names the host it dialled.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <sys/types.h>

namespace parley::client {

class tls_channel {
public:
  /// Runs the TLS handshake on the connected socket `fd` (which it does not
  /// own). `ca_file` empty: the system's trusted roots. Nothing, with `error`
  /// set, if the handshake or the certificate check fails.
  static std::unique_ptr<tls_channel> open(int fd, const std::string& host,
                                           const std::string& ca_file,
                                           std::chrono::milliseconds timeout,
                                           std::string& error);

  ~tls_channel();

  tls_channel(const tls_channel&) = delete;
  tls_channel& operator=(const tls_channel&) = delete;

  /// Like recv(2): bytes read, 0 when the peer closed, -1 with errno set.
  ssize_t read(char* buf, size_t size);

  /// Like send(2), all or nothing: bytes written, or -1 with errno set.
  ssize_t write(const char* buf, size_t size);

  /// Whether decrypted bytes wait inside TLS (poll(2) cannot see them).
  bool pending() const;

private:
  struct impl;
  explicit tls_channel(std::unique_ptr<impl> x);
  std::unique_ptr<impl> impl_;
};

} // namespace parley::client
