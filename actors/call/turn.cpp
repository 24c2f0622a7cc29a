#include "actors/call/turn.hpp"

#include <openssl/evp.h>

#include <fstream>
#include <sstream>

namespace parley {

std::shared_ptr<const turn_config> load_turn_config(const node_settings& settings,
                                                    std::string& error) {
  if (settings.turn_secret_file.empty())
    return nullptr;
  std::ifstream in(settings.turn_secret_file);
  std::stringstream text;
  text << in.rdbuf();
  auto secret = text.str();
  while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back())))
    secret.pop_back();
  if (!in || secret.empty()) {
    error = "cannot read a secret from " + settings.turn_secret_file;
    return nullptr;
  }
  auto config = std::make_shared<turn_config>();
  config->secret = std::move(secret);
  config->uris = settings.turn_uris;
  config->ttl = std::chrono::duration_cast<std::chrono::seconds>(settings.turn_ttl);
  return config;
}

std::string hmac_sha1_base64(std::string_view key, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t mac_size = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA1", nullptr, key.data(), key.size(),
                reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                mac, sizeof(mac), &mac_size)
      == nullptr)
    return {};
  // 4 output characters per 3 input bytes, and the terminating NUL.
  std::string out(4 * ((mac_size + 2) / 3) + 1, '\0');
  auto n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), mac,
                           static_cast<int>(mac_size));
  out.resize(static_cast<size_t>(n));
  return out;
}

turn_credentials make_turn_credentials(const turn_config& config, std::string_view user,
                                       int64_t now_unix) {
  turn_credentials c;
  // coturn takes the timestamp as the expiry: valid while it is not past.
  c.username = std::to_string(now_unix + config.ttl.count()) + ":" + std::string(user);
  c.password = hmac_sha1_base64(config.secret, c.username);
  c.ttl_seconds = static_cast<uint32_t>(config.ttl.count());
  c.uris = config.uris;
  return c;
}

} // namespace parley
