#include "tools/client/keystore.hpp"

#include <sodium.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace parley {

identity identity::generate() {
  identity id;
  id.public_key_.resize(crypto_sign_PUBLICKEYBYTES);
  id.secret_key_.resize(crypto_sign_SECRETKEYBYTES);
  crypto_sign_keypair(reinterpret_cast<unsigned char*>(id.public_key_.data()),
                      reinterpret_cast<unsigned char*>(id.secret_key_.data()));
  return id;
}

std::optional<identity> identity::from_secret(std::string_view secret) {
  if (secret.size() != crypto_sign_SECRETKEYBYTES)
    return std::nullopt;
  identity id;
  id.secret_key_ = std::string(secret);
  id.public_key_.resize(crypto_sign_PUBLICKEYBYTES);
  crypto_sign_ed25519_sk_to_pk(
    reinterpret_cast<unsigned char*>(id.public_key_.data()),
    reinterpret_cast<const unsigned char*>(id.secret_key_.data()));
  return id;
}

std::string identity::sign(std::string_view message) const {
  std::string signature(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(signature.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(),
                       reinterpret_cast<const unsigned char*>(secret_key_.data()));
  return signature;
}

keystore::keystore(std::string home) : home_(std::move(home)) {
  // nop
}

std::string keystore::default_home() {
  if (auto env = std::getenv("PARLEY_HOME"); env != nullptr && *env != '\0')
    return env;
  if (auto env = std::getenv("HOME"); env != nullptr && *env != '\0')
    return std::string(env) + "/.parley";
  return ".parley";
}

std::string keystore::key_path(std::string_view user) const {
  return home_ + "/keys/" + std::string(user) + ".key";
}

std::optional<identity> keystore::load(std::string_view user) const {
  int fd = ::open(key_path(user).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return std::nullopt;
  std::string secret(crypto_sign_SECRETKEYBYTES + 1, '\0');
  auto n = ::read(fd, secret.data(), secret.size());
  ::close(fd);
  if (n != static_cast<ssize_t>(crypto_sign_SECRETKEYBYTES))
    return std::nullopt;
  secret.resize(crypto_sign_SECRETKEYBYTES);
  auto id = identity::from_secret(secret);
  sodium_memzero(secret.data(), secret.size());
  return id;
}

bool keystore::save(std::string_view user, const identity& id,
                    std::string& error) const {
  for (auto dir : {home_, home_ + "/keys"}) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      error = "cannot create " + dir + ": " + std::strerror(errno);
      return false;
    }
  }
  auto path = key_path(user);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = errno == EEXIST ? path + " exists already"
                            : "cannot create " + path + ": " + std::strerror(errno);
    return false;
  }
  auto& secret = id.secret_key();
  bool ok = ::write(fd, secret.data(), secret.size())
              == static_cast<ssize_t>(secret.size())
            && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) {
    ::unlink(path.c_str());
    error = "cannot write " + path;
  }
  return ok;
}

} // namespace parley
