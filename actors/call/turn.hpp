// TURN credentials in coturn's REST-API scheme (use-auth-secret): the node and
// the relay share a secret; the node hands a logged-in user
//
//   username = "<expiry, Unix seconds>:<user>"
//   password = base64(HMAC-SHA1(secret, username))
//
// and the relay accepts them until the expiry, without asking anyone.
#pragma once

#include "actors/config.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace parley {

/// What a node needs to hand out TURN credentials.
struct turn_config {
  std::string secret;
  std::vector<std::string> uris;
  std::chrono::seconds ttl{3600};
};

/// The node's TURN settings, the secret read from parley.turn-secret-file;
/// nullptr without a secret file. On a problem, nullptr and `error` says why.
std::shared_ptr<const turn_config> load_turn_config(const node_settings& settings,
                                                    std::string& error);

struct turn_credentials {
  std::string username;
  std::string password;
  uint32_t ttl_seconds = 0;
  std::vector<std::string> uris;
};

/// Credentials for `user`, valid from `now_unix` (seconds) for the configured ttl.
turn_credentials make_turn_credentials(const turn_config& config, std::string_view user,
                                       int64_t now_unix);

/// base64(HMAC-SHA1(key, message)), standard alphabet with padding.
std::string hmac_sha1_base64(std::string_view key, std::string_view message);

} // namespace parley
