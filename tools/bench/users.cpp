#include "tools/bench/users.hpp"

#include "schema/rules.hpp"

#include <sodium.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace parley::bench {

namespace {

constexpr const char* file_magic = "parley-bench-keys";

} // namespace

std::string random_run_tag() {
  static constexpr char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string tag(6, 'a');
  for (auto& c : tag)
    c = alphabet[randombytes_uniform(sizeof(alphabet) - 1)];
  return tag;
}

user_set make_users(const std::string& run, size_t n) {
  user_set set;
  set.run = run;
  set.users.resize(n);
  for (size_t i = 0; i < n; ++i) {
    auto& u = set.users[i];
    u.name = "b" + run + "-" + std::to_string(i);
    crypto_sign_keypair(u.public_key.data(), u.secret_key.data());
  }
  return set;
}

std::optional<user_set> load_users(const std::string& path, std::string& error) {
  std::ifstream in(path);
  if (!in) {
    error = "cannot read " + path + ": " + std::strerror(errno);
    return std::nullopt;
  }
  user_set set;
  std::string magic;
  std::string line;
  if (!std::getline(in, line) || !(std::istringstream(line) >> magic >> set.run)
      || magic != file_magic) {
    error = path + " is not a parley-bench key file";
    return std::nullopt;
  }
  size_t line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty())
      continue;
    std::istringstream fields(line);
    std::string hex;
    bench_user u;
    size_t bin_len = 0;
    if (!(fields >> u.name >> hex) || !valid_user_name(u.name)
        || sodium_hex2bin(u.secret_key.data(), u.secret_key.size(), hex.data(),
                          hex.size(), nullptr, &bin_len, nullptr)
             != 0
        || bin_len != u.secret_key.size()) {
      error = path + ":" + std::to_string(line_no) + ": not \"<name> <secret key hex>\"";
      return std::nullopt;
    }
    crypto_sign_ed25519_sk_to_pk(u.public_key.data(), u.secret_key.data());
    set.users.push_back(std::move(u));
  }
  return set;
}

bool save_users(const std::string& path, const user_set& set, std::string& error) {
  auto tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = "cannot write " + tmp + ": " + std::strerror(errno);
    return false;
  }
  std::string text = std::string(file_magic) + " " + set.run + "\n";
  char hex[2 * 64 + 1];
  for (auto& u : set.users) {
    sodium_bin2hex(hex, sizeof(hex), u.secret_key.data(), u.secret_key.size());
    text += u.name;
    text += ' ';
    text += hex;
    text += '\n';
  }
  size_t off = 0;
  while (off < text.size()) {
    auto n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      error = "cannot write " + tmp + ": " + std::strerror(errno);
      ::close(fd);
      return false;
    }
    off += static_cast<size_t>(n);
  }
  bool written = ::fsync(fd) == 0;
  written = ::close(fd) == 0 && written;
  if (!written || std::rename(tmp.c_str(), path.c_str()) != 0) {
    error = "cannot write " + path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

} // namespace parley::bench
