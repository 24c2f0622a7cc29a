// parley-media's HTTP/1.1 service: uploads and downloads of encrypted blobs
// named by their SHA-256, each request carrying a token a chat node signed.
//
//   PUT  /media/<sha256>   upload (token "up"): the whole blob, or the rest of
//                          it with Content-Range: bytes <offset>-<last>/<size>
//   HEAD /media/<sha256>   "up" token: Upload-Offset says where to resume;
//                          "down" token: the blob's size, or 404
//   GET  /media/<sha256>   download (token "down"), with Range
//   GET  /health           200 while the server runs (for load balancers)
//
// The token goes in "Authorization: Bearer <token>" or the query ("?token=").
// The protocol, status codes and retention are in docs/media.md.
//
// Bodies stream between the socket and the disk through a fixed buffer per
// connection, never whole in memory. Several I/O threads serve the sockets; the
// disk work that can take seconds (reading a resumed part back, fsync at the
// end of an upload, the retention sweep) runs on a small pool beside them.
//
// It stops on SIGINT or SIGTERM (or stop()): it stops accepting, closes every
// connection (an upload cut this way keeps its part and resumes later), waits
// for disk work under way and returns from run().
#pragma once

#include "media/blob_store.hpp"
#include "media/token.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace parley::media {

/// What an operator sets (parley-media's flags).
struct server_settings {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::string port_file;  // if set, the bound port is written there (for tests)
  std::string blob_dir = "./media";
  std::string key_file;
  uint64_t max_size = uint64_t{2} << 30;  // bytes per blob
  std::chrono::seconds retention{30 * 24 * 3600};
  std::chrono::seconds partial_retention{24 * 3600};
  std::chrono::seconds sweep_interval{600};
  std::chrono::seconds idle_timeout{60};  // per read or write on a connection
  size_t threads = 2;                     // I/O threads
  size_t max_connections = 2000;

  /// Checks that the settings make sense together; returns the problem or "".
  std::string validate() const;
};

class server {
public:
  /// Binds the listening socket. Nothing, with the reason in `error`, if it
  /// cannot.
  static std::unique_ptr<server> create(const server_settings& settings, token_key key,
                                        std::unique_ptr<blob_store> store,
                                        std::string& error);

  virtual ~server();

  /// The bound port (the OS's pick when the setting was 0).
  virtual uint16_t port() const noexcept = 0;

  /// Serves until SIGINT, SIGTERM or stop(); returns when everything stopped.
  virtual void run() = 0;

  /// Asks run() to return; callable from any thread.
  virtual void stop() = 0;
};

} // namespace parley::media
