// The RocksDB instance behind the store actor: opening it with parley's options,
// point reads, atomic batch writes and ordered range scans. Nothing but the store
// actor (and offline tools reading a copy) may use it.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace parley {

class database {
public:
  /// Opens the database in `dir`, creating it if needed unless `read_only`.
  /// A read-only instance may be opened beside a running node (tests do).
  /// `tuning` is a RocksDB options string ("write_buffer_size=8388608;...")
  /// applied over parley's defaults; an option RocksDB does not know is an error.
  static std::unique_ptr<database> open(const std::string& dir, bool read_only,
                                        std::string& error,
                                        const std::string& tuning = {});

  ~database();

  /// Reads one key; `IsNotFound()` when absent.
  rocksdb::Status get(std::string_view key, std::string* value);

  /// Writes a batch atomically; with `sync`, returns after the WAL is fsynced.
  rocksdb::Status write(rocksdb::WriteBatch& batch, bool sync);

  /// Visits keys in [from, to) in order until `visit` returns false.
  using visitor = std::function<bool(std::string_view key, std::string_view value)>;
  rocksdb::Status scan(std::string_view from, std::string_view to,
                       const visitor& visit);

  /// The largest key in [from, to), if any.
  std::optional<std::string> last_key(std::string_view from, std::string_view to);

  /// A RocksDB property such as "rocksdb.estimate-num-keys", or "".
  std::string property(const std::string& name);

private:
  explicit database(rocksdb::DB* db);

  std::unique_ptr<rocksdb::DB> db_;
};

} // namespace parley
