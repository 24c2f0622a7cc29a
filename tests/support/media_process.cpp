#include "support/media_process.hpp"

#include <catch2/catch.hpp>
#include <sodium.h>

#include <chrono>
#include <csignal>
#include <ctime>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/wait.h>
#include <thread>
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

media_process::~media_process() {
  if (pid_ > 0)
    kill_and_wait(SIGKILL);
}

void media_process::start() {
  REQUIRE(pid_ < 0);
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
  auto log_path = dir_ + "/media.log";
  pid_ = ::fork();
  REQUIRE(pid_ >= 0);
  if (pid_ == 0) {
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  for (int i = 0; i < 1000; ++i) {
    std::ifstream in(port_file);
    unsigned port = 0;
    if (in >> port && port != 0) {
      port_ = static_cast<uint16_t>(port);
      return;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      FAIL("parley-media exited at start:\n" << log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL("parley-media did not listen within 10 s:\n" << log());
}

int media_process::kill_and_wait(int signal) {
  if (pid_ <= 0)
    return -1;
  ::kill(pid_, signal);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

std::string media_process::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

std::string media_process::log() const {
  std::ifstream in(dir_ + "/media.log");
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
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
