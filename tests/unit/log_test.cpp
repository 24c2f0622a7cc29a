// The node's log once its lines are batched (batch_log_lines): every line gets
// there, in order; a warning or an error at once, with all before it; and
// flush_log writes what waits.

#include "actors/log.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

using namespace parley;

namespace {

/// Standard error goes to a file while it lives.
class stderr_to_file {
public:
  explicit stderr_to_file(std::string path) : path_(std::move(path)) {
    std::fflush(stderr);
    saved_ = ::dup(STDERR_FILENO);
    int fd = ::open(path_.c_str(), O_CREAT | O_TRUNC | O_WRONLY, 0600);
    ::dup2(fd, STDERR_FILENO);
    ::close(fd);
  }

  ~stderr_to_file() {
    flush_log();
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
  }

  std::string text() const {
    std::ifstream in(path_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

private:
  std::string path_;
  int saved_ = -1;
};

} // namespace

TEST_CASE("batched log lines: an error goes out at once, after every line before it",
          "[log]") {
  test::temp_dir dir;
  stderr_to_file err(dir / "err.txt");
  batch_log_lines();
  log(log_level::info, "first ", 1);
  log(log_level::info, "second ", 2);
  log(log_level::error, "third ", 3);
  auto text = err.text();
  auto first = text.find("INFO  first 1\n");
  auto second = text.find("INFO  second 2\n");
  auto third = text.find("ERROR third 3\n");
  REQUIRE(first != std::string::npos);
  REQUIRE(second != std::string::npos);
  REQUIRE(third != std::string::npos);
  CHECK(first < second);
  CHECK(second < third);
}

TEST_CASE("batched log lines: flush_log writes what waits", "[log]") {
  test::temp_dir dir;
  stderr_to_file err(dir / "err.txt");
  batch_log_lines();
  log(log_level::info, "waiting ", "line");
  flush_log();
  CHECK(err.text().find("INFO  waiting line\n") != std::string::npos);
}

TEST_CASE("batched log lines: an info line alone gets there by itself", "[log]") {
  test::temp_dir dir;
  stderr_to_file err(dir / "err.txt");
  batch_log_lines();
  log(log_level::info, "alone");
  bool there = false;
  for (int i = 0; i < 250 && !there; ++i) {
    there = err.text().find("INFO  alone\n") != std::string::npos;
    if (!there)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(there);
}
