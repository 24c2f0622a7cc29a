// The store's RocksDB with parley's options: ordered scans find every key
// whether they stay in one user's range or cross many users, and the last key
// of a range, from the memtable and again after reopening; flushes run at nice
// 19 and retired WAL files are deleted (in steps, through the trash).

#include "actors/store/database.hpp"
#include "actors/store/keys.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>
#include <vector>

using namespace parley;

namespace {

std::vector<std::string> scan_keys(database& db, const std::string& from,
                                   const std::string& to) {
  std::vector<std::string> out;
  auto status = db.scan(from, to, [&](std::string_view key, std::string_view) {
    out.emplace_back(key);
    return true;
  });
  REQUIRE(status.ok());
  return out;
}

/// Files in `dir` whose names end in `suffix`.
size_t count_files(const std::string& dir, const std::string& suffix) {
  size_t n = 0;
  for (auto& entry : std::filesystem::directory_iterator(dir)) {
    auto name = entry.path().filename().string();
    if (name.size() >= suffix.size()
        && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      ++n;
  }
  return n;
}

/// The nice value of this process's thread named `name`, if there is one.
std::optional<int> nice_of_thread(const std::string& name) {
  for (auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string line;
    if (!std::getline(comm, line) || line != name)
      continue;
    // On Linux the nice value is per thread: PRIO_PROCESS with a thread id.
    auto tid = static_cast<id_t>(std::stoul(task.path().filename().string()));
    errno = 0;
    int nice = ::getpriority(PRIO_PROCESS, tid);
    if (errno == 0)
      return nice;
  }
  return std::nullopt;
}

} // namespace

TEST_CASE("database - scans within one user and across users see every key") {
  test::temp_dir dir;
  std::string error;
  auto db = database::open(dir.path(), false, error);
  REQUIRE(db);
  rocksdb::WriteBatch batch;
  for (auto user : {"al", "alice", "bob"})
    for (uint64_t seq = 1; seq <= 3; ++seq)
      batch.Put(keys::inbox(user, seq), "x");
  batch.Put(keys::user("alice"), "k");
  batch.Put(keys::forward("n2", 7), "r");
  batch.Put(keys::forward("n2", 9), "r");
  batch.Put(keys::forward("n3", 4), "r");
  REQUIRE(db->write(batch, false).ok());

  auto check = [&] {
    auto alice = scan_keys(*db, keys::inbox_begin("alice"), keys::inbox_end("alice"));
    REQUIRE(alice.size() == 3);
    CHECK(alice[0] == keys::inbox("alice", 1));
    CHECK(alice[2] == keys::inbox("alice", 3));
    // From the middle of one user's inbox.
    CHECK(scan_keys(*db, keys::inbox("bob", 2), keys::inbox_end("bob")).size() == 2);
    // Every inbox, across users, in order.
    auto all = scan_keys(*db, "i", "j");
    REQUIRE(all.size() == 9);
    CHECK(all.front() == keys::inbox("al", 1));
    CHECK(all.back() == keys::inbox("bob", 3));
    auto last = db->last_key(keys::forward_begin("n2"), keys::forward_end("n2"));
    REQUIRE(last);
    CHECK(*last == keys::forward("n2", 9));
    CHECK_FALSE(db->last_key(keys::forward_begin("n4"), keys::forward_end("n4")));
  };
  check();  // from the memtable
  db.reset();
  db = database::open(dir.path(), false, error);  // replayed from the WAL
  REQUIRE(db);
  check();
}

TEST_CASE("database - an unknown RocksDB option is refused at open") {
  test::temp_dir dir;
  std::string error;
  CHECK_FALSE(database::open(dir.path(), false, error, "no_such_option=1"));
  CHECK(error.find("no_such_option") != std::string::npos);
  CHECK(database::open(dir.path(), false, error, "write_buffer_size=8388608"));
}

TEST_CASE("database - flushes run at nice 19 and retired WAL files are deleted") {
  test::temp_dir dir;
  std::string error;
  // 1 MB memtables: 8 MB of writes retire several WAL files.
  auto db = database::open(dir.path(), false, error, "write_buffer_size=1048576");
  REQUIRE(db);
  std::string value(1000, 'v');
  bool written = true;
  for (uint64_t seq = 1; seq <= 8000; ++seq) {
    rocksdb::WriteBatch batch;
    batch.Put(keys::inbox("alice", seq), value);
    written = written && db->write(batch, false).ok();
  }
  REQUIRE(written);
  // Once no flush is pending or running, no WAL retires any more.
  auto flushed = [&] {
    return db->property("rocksdb.num-immutable-mem-table") == "0"
           && db->property("rocksdb.num-running-flushes") == "0";
  };
  auto settled = [&] {
    return flushed() && count_files(dir.path(), ".trash") == 0
           && count_files(dir.path(), ".log") == 1;
  };
  // Flushes and deletions run in the background: wait for them, boundedly.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!settled() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(flushed());
  CHECK(count_files(dir.path(), ".trash") == 0);
  CHECK(count_files(dir.path(), ".log") == 1);
  CHECK(count_files(dir.path(), ".sst") >= 1);
  CHECK(nice_of_thread("rocksdb:high") == 19);
  db.reset();
  db = database::open(dir.path(), false, error);
  REQUIRE(db);
  CHECK(scan_keys(*db, keys::inbox_begin("alice"), keys::inbox_end("alice")).size()
        == 8000);
}
