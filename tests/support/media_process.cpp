#include "support/media_process.hpp"

#include "support/cluster.hpp"

#include <catch2/catch.hpp>
#include <sodium.h>

#include <ctime>
#include <fstream>
#include <unistd.h>

namespace parley::test {

media_process::media_process(std::string dir, std::vector<std::string> extra_args)
  : dir_(std::move(dir)), extra_args_(std::move(extra_args)) {
  // A key of its own: tokens of another media_process are forged here.
  unsigned char random[16];
  randombytes_buf(random, sizeof(random));
  std::ofstream key(key_file());
  key << "test-media-key-" << to_hex({reinterpret_cast<char*>(random), sizeof(random)})
      << "\n";
}

void media_process::start() {
  if (port_ == 0)
    port_ = free_port();  // claimed: free again when the server restarts
  auto port_file = dir_ + "/media.port";
  ::unlink(port_file.c_str());
  std::vector<std::string> args{PARLEY_MEDIA_BIN,
                                "--host",
                                "127.0.0.1",
                                "--port",
                                std::to_string(port_),
                                "--port-file",
                                port_file,
                                "--blob-dir",
                                blob_dir(),
                                "--key-file",
                                key_file()};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  child_.start(std::move(args), dir_, dir_ + "/media.log");
  child_.wait_until([&] {
    std::ifstream in(port_file);
    unsigned port = 0;
    if (!(in >> port) || port == 0)
      return false;
    port_ = static_cast<uint16_t>(port);
    return true;
  });
}

int media_process::kill_and_wait(int signal) {
  return child_.kill_and_wait(signal);
}

std::string media_process::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

std::string media_process::log() const {
  return child_.log();
}

std::string media_process::token(media::action what, const std::string& user,
                                 const std::string& sha256, uint64_t size,
                                 std::vector<std::string> recipients, int64_t ttl) const {
  std::string error;
  auto key = media::token_key::load(key_file(), error);
  REQUIRE(key);
  media::token_claims c;
  c.what = what;
  c.user = user;
  c.sha256 = sha256;
  c.size = size;
  c.recipients = std::move(recipients);
  c.expires = static_cast<int64_t>(std::time(nullptr)) + ttl;
  return key->sign(c);
}

} // namespace parley::test
