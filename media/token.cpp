#include "media/token.hpp"

#include "schema/rules.hpp"

#include <sodium.h>

#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>

namespace parley::media {

namespace {

constexpr std::string_view mac_context = "parley-media-token-v1\n";
constexpr size_t sha256_bytes = 32;

/// `text` split at every `sep` (an empty text gives one empty field).
std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    auto pos = text.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(text.substr(start));
      return out;
    }
    out.push_back(text.substr(start, pos - start));
    start = pos + 1;
  }
}

template <class T>
bool parse_number(std::string_view text, T& out) {
  if (text.empty() || (text.size() > 1 && text[0] == '0'))
    return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

} // namespace

std::string_view action_name(action a) noexcept {
  return a == action::upload ? "up" : "down";
}

std::string_view to_string(token_error e) noexcept {
  switch (e) {
    case token_error::malformed:
      return "malformed token";
    case token_error::forged:
      return "token not signed by this service's key";
    case token_error::expired:
      return "token expired";
  }
  return "bad token";
}

std::optional<token_key> token_key::load(const std::string& path, std::string& error) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  auto secret = text.str();
  while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back())))
    secret.pop_back();
  if (!in || secret.size() < 16) {
    error = "cannot read a key of 16 or more characters from " + path;
    sodium_memzero(secret.data(), secret.size());
    return std::nullopt;
  }
  return token_key{std::move(secret)};
}

token_key::token_key(std::string secret) : secret_(std::move(secret)) {
  // nop
}

token_key::~token_key() {
  sodium_memzero(secret_.data(), secret_.size());
}

token_key::token_key(token_key&& other) noexcept : secret_(std::move(other.secret_)) {
  other.secret_.clear();
}

token_key& token_key::operator=(token_key&& other) noexcept {
  sodium_memzero(secret_.data(), secret_.size());
  secret_ = std::move(other.secret_);
  other.secret_.clear();
  return *this;
}

std::string token_key::mac_hex(std::string_view signed_part) const {
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(secret_.data()),
                              secret_.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(mac_context.data()),
                                mac_context.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(signed_part.data()),
                                signed_part.size());
  crypto_auth_hmacsha256_final(&st, mac);
  return to_hex({reinterpret_cast<const char*>(mac), sizeof(mac)});
}

std::string token_key::sign(const token_claims& c) const {
  std::string text = "v1:";
  text += action_name(c.what);
  text += ':';
  text += c.user;
  text += ':';
  text += to_hex(c.sha256);
  text += ':';
  text += std::to_string(c.size);
  text += ':';
  for (size_t i = 0; i < c.recipients.size(); ++i) {
    if (i > 0)
      text += ',';
    text += c.recipients[i];
  }
  text += ':';
  text += std::to_string(c.expires);
  auto mac = mac_hex(text);
  text += ':';
  text += mac;
  return text;
}

std::variant<token_claims, token_error> token_key::verify(std::string_view token,
                                                         int64_t now) const {
  auto last = token.rfind(':');
  if (last == std::string_view::npos)
    return token_error::malformed;
  auto signed_part = token.substr(0, last);
  auto mac = token.substr(last + 1);
  auto fields = split(signed_part, ':');
  if (fields.size() != 7 || fields[0] != "v1" || mac.size() != 64)
    return token_error::malformed;
  // The MAC first: nothing of a forged token is worth reading.
  auto expected = mac_hex(signed_part);
  if (sodium_memcmp(expected.data(), mac.data(), expected.size()) != 0)
    return token_error::forged;
  token_claims c;
  if (fields[1] == "up")
    c.what = action::upload;
  else if (fields[1] == "down")
    c.what = action::download;
  else
    return token_error::malformed;
  c.user = std::string(fields[2]);
  if (!valid_user_name(c.user))
    return token_error::malformed;
  auto sha = from_hex(fields[3]);
  if (!sha || sha->size() != sha256_bytes)
    return token_error::malformed;
  c.sha256 = std::move(*sha);
  if (!parse_number(fields[4], c.size) || !parse_number(fields[6], c.expires))
    return token_error::malformed;
  if (!fields[5].empty()) {
    for (auto name : split(fields[5], ',')) {
      if (!valid_user_name(name))
        return token_error::malformed;
      c.recipients.emplace_back(name);
    }
  }
  if (c.expires <= now)
    return token_error::expired;
  return c;
}

} // namespace parley::media
