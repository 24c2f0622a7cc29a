// A real parley-media process for tests: its blobs, key and log in a folder of
// the test's, on a port claimed for the test (support/port_claim.hpp). It can be
// stopped (any signal) and started again on the same folder and port; tokens
// for it are signed with its key.
#pragma once

#include "media/token.hpp"
#include "support/child_process.hpp"

#include <string>
#include <sys/types.h>
#include <vector>

namespace parley::test {

class media_process {
public:
  /// `dir` holds the blob folder, the key file, the port file and the log.
  explicit media_process(std::string dir, std::vector<std::string> extra_args = {});

  /// Starts it and waits until it listens; fails the test if it does not.
  void start();

  /// Sends `signal` and waits; returns the wait status.
  int kill_and_wait(int signal);

  uint16_t port() const noexcept {
    return port_;
  }

  /// http://127.0.0.1:PORT
  std::string url() const;

  /// The key file (shared with nodes as parley.media-key-file).
  std::string key_file() const {
    return dir_ + "/media.key";
  }

  std::string blob_dir() const {
    return dir_ + "/blobs";
  }

  std::string log() const;

  /// A token signed with this server's key, expiring `ttl` seconds from now
  /// (negative: already expired).
  std::string token(media::action what, const std::string& user, const std::string& sha256,
                    uint64_t size = 0, std::vector<std::string> recipients = {},
                    int64_t ttl = 600) const;

private:
  std::string dir_;
  std::vector<std::string> extra_args_;
  child_process child_;  // SIGKILLed when the test is done, if still running
  uint16_t port_ = 0;
};

} // namespace parley::test
