#include "actors/store/database.hpp"

#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/sst_file_manager.h>
#include <rocksdb/table.h>

#include <cstring>

namespace parley {

namespace {

/// A key's part up to its first 0x00: the tag and the user (keys.hpp). Memtable
/// inserts for one user land next to each other; with it as a hint, RocksDB
/// skips most of the skiplist's comparisons (a third of the store's work).
class up_to_first_nul : public rocksdb::SliceTransform {
public:
  const char* Name() const override {
    return "parley.up_to_first_nul";
  }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    auto end = static_cast<const char*>(std::memchr(key.data(), '\0', key.size()));
    return rocksdb::Slice(key.data(), end ? static_cast<size_t>(end - key.data())
                                          : key.size());
  }
  bool InDomain(const rocksdb::Slice&) const override {
    return true;
  }
};

/// Far above the WAL rate of a saturated node (W2 fills a 64 MB memtable every
/// 2.5–4 s), so trash never piles up.
constexpr int64_t deletion_bytes_per_second = 256 << 20;
constexpr uint64_t deletion_chunk_bytes = 1 << 20;
/// Trash may outgrow the table files this much before files are deleted at once:
/// a 64 MB WAL beside a few MB of tables is the normal case here.
constexpr double max_trash_ratio = 64.0;

/// RocksDB's own work must not hold up the messages of a node that has one core.
bool yield_to_the_node(rocksdb::Options& options, std::string& error) {
  // Obsolete WAL and table files are truncated away 1 MB at a time by a
  // background thread. Unlinking a retired 64 MB WAL at once held every
  // fdatasync behind it for ≈ 20 ms (ext4 mounted with discard).
  rocksdb::Status status;
  options.sst_file_manager.reset(rocksdb::NewSstFileManager(
    options.env, nullptr, "", deletion_bytes_per_second, true, &status,
    max_trash_ratio, deletion_chunk_bytes));
  if (!status.ok()) {
    error = status.ToString();
    return false;
  }
  // Flushes and compactions run at nice 19. At nice 0, a memtable flush took
  // ≈ 90 ms of CPU over ≈ 0.2 s, and the messages of that time waited for it.
  // On a saturated core the flush falls behind and RocksDB stops the store's
  // writes until it is done (W2: 0.08–0.15 s per flush, same throughput).
  for (auto pool : {rocksdb::Env::Priority::HIGH, rocksdb::Env::Priority::LOW})
    options.env->LowerThreadPoolCPUPriority(pool, rocksdb::CpuPriority::kLow);
  return true;
}

} // namespace

std::unique_ptr<database> database::open(const std::string& dir, bool read_only,
                                         std::string& error, const std::string& tuning) {
  rocksdb::Options options;
  options.create_if_missing = !read_only;
  // Point reads (users, message status) dominate: bloom filters skip files.
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  options.IncreaseParallelism(2);
  options.memtable_insert_with_hint_prefix_extractor.reset(new up_to_first_nul);
  // A bloom filter over whole keys in the memtable: the dedup lookup of every
  // new message misses there cheaply.
  options.memtable_whole_key_filtering = true;
  options.memtable_prefix_bloom_size_ratio = 0.02;
  if (!read_only && !yield_to_the_node(options, error))
    return nullptr;
  if (!tuning.empty()) {
    rocksdb::ConfigOptions how;
    how.ignore_unknown_options = false;
    auto parsed = rocksdb::GetOptionsFromString(how, options, tuning, &options);
    if (!parsed.ok()) {
      error = "parley.rocksdb-options: " + parsed.ToString();
      return nullptr;
    }
  }
  rocksdb::DB* db = nullptr;
  auto status = read_only ? rocksdb::DB::OpenForReadOnly(options, dir, &db)
                          : rocksdb::DB::Open(options, dir, &db);
  if (!status.ok()) {
    error = status.ToString();
    return nullptr;
  }
  return std::unique_ptr<database>(new database(db));
}

database::database(rocksdb::DB* db) : db_(db) {
  // nop
}

database::~database() {
  if (db_)
    db_->Close();
}

rocksdb::Status database::get(std::string_view key, std::string* value) {
  return db_->Get(rocksdb::ReadOptions(), rocksdb::Slice(key.data(), key.size()),
                  value);
}

rocksdb::Status database::write(rocksdb::WriteBatch& batch, bool sync) {
  rocksdb::WriteOptions options;
  options.sync = sync;
  return db_->Write(options, &batch);
}

rocksdb::Status database::scan(std::string_view from, std::string_view to,
                               const visitor& visit) {
  rocksdb::Slice upper(to.data(), to.size());
  rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options));
  for (it->Seek(rocksdb::Slice(from.data(), from.size())); it->Valid();
       it->Next()) {
    auto key = it->key();
    auto value = it->value();
    if (!visit({key.data(), key.size()}, {value.data(), value.size()}))
      break;
  }
  return it->status();
}

std::optional<std::string> database::last_key(std::string_view from,
                                              std::string_view to) {
  rocksdb::Slice lower(from.data(), from.size());
  rocksdb::ReadOptions options;
  options.iterate_lower_bound = &lower;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options));
  // `to` itself is excluded: step back from the first key at or after it.
  it->SeekForPrev(rocksdb::Slice(to.data(), to.size()));
  if (it->Valid() && it->key().compare(rocksdb::Slice(to.data(), to.size())) == 0)
    it->Prev();
  if (!it->Valid())
    return std::nullopt;
  return it->key().ToString();
}

std::string database::property(const std::string& name) {
  std::string value;
  if (!db_->GetProperty(name, &value))
    return {};
  return value;
}

} // namespace parley
