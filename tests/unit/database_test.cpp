// The store's RocksDB with parley's options: ordered scans find every key
// whether they stay in one user's range or cross many users, and the last key
// of a range, from the memtable and again after reopening.

#include "actors/store/database.hpp"
#include "actors/store/keys.hpp"
#include "support/temp_dir.hpp"

#include <catch2/catch.hpp>

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
