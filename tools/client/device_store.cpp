#include "tools/client/device_store.hpp"

#include "tools/client/message_id.hpp"

#include <sqlite3.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <sys/stat.h>

namespace parley::client {

namespace {

constexpr const char* schema = R"sql(
CREATE TABLE IF NOT EXISTS messages (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- local order, never reused
  peer TEXT NOT NULL,                     -- recipient of ours, sender of theirs
  outgoing INTEGER NOT NULL,              -- 1 ours, 0 theirs
  id BLOB NOT NULL,                       -- 16 bytes, chosen by the sender
  body BLOB NOT NULL,
  state INTEGER NOT NULL,                 -- tick_state
  created INTEGER NOT NULL,               -- ms, this device's clock
  server_time INTEGER NOT NULL DEFAULT 0, -- ms, the node's clock
  error TEXT NOT NULL DEFAULT '',         -- why the node refused it
  read_unconfirmed INTEGER NOT NULL DEFAULT 0, -- theirs: read, node not told surely
  wire BLOB                               -- ours: the payload as sent (sealed once)
);
CREATE INDEX IF NOT EXISTS messages_by_peer_id ON messages(peer, id);
CREATE INDEX IF NOT EXISTS outbox ON messages(seq) WHERE outgoing = 1 AND state = 0;
CREATE INDEX IF NOT EXISTS unconfirmed_reads ON messages(seq) WHERE read_unconfirmed = 1;
-- Dedup of incoming messages; kept apart from the history so that pruning the
-- history never lets a retransmission in twice.
-- End-to-end state: this device's prekeys, its sessions, the identity keys its
-- contacts had when first seen. Secret; never leaves the device.
CREATE TABLE IF NOT EXISTS secrets (
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  value BLOB NOT NULL,
  PRIMARY KEY (kind, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS received (
  sender TEXT NOT NULL,
  id BLOB NOT NULL,
  PRIMARY KEY (sender, id)
) WITHOUT ROWID;
-- The groups this user belongs to, as their home nodes last described them;
-- stale once a notice said they changed.
CREATE TABLE IF NOT EXISTS groups (
  id TEXT PRIMARY KEY,                    -- hex of the 16-byte group id
  name TEXT NOT NULL,
  epoch INTEGER NOT NULL,
  members TEXT NOT NULL,                  -- "user" or "user*" (admin), one a line
  stale INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
)sql";

/// Columns added after a store's first version, for stores made before them.
constexpr const char* added_columns[][2] = {
  // messages.grp: the group (hex) of a group message, either way; '' otherwise.
  {"grp", "ALTER TABLE messages ADD COLUMN grp TEXT NOT NULL DEFAULT ''"},
};

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

/// Named apart from bind: std::bind, found through the std::string, would win.
void bind_bytes(sqlite3_stmt* stmt, int i, const std::string& text_or_blob, bool blob) {
  if (blob)
    sqlite3_bind_blob(stmt, i, text_or_blob.data(), static_cast<int>(text_or_blob.size()),
                      SQLITE_TRANSIENT);
  else
    sqlite3_bind_text(stmt, i, text_or_blob.data(), static_cast<int>(text_or_blob.size()),
                      SQLITE_TRANSIENT);
}

std::string column_bytes(sqlite3_stmt* stmt, int i) {
  auto data = static_cast<const char*>(sqlite3_column_blob(stmt, i));
  auto size = sqlite3_column_bytes(stmt, i);
  return data == nullptr ? std::string() : std::string(data, static_cast<size_t>(size));
}

/// Resets a statement when a call is done with it, whichever way it leaves.
struct statement_use {
  sqlite3_stmt* stmt;
  ~statement_use() {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
  }
};

} // namespace

const char* tick_name(tick_state state, bool outgoing) {
  switch (state) {
    case tick_state::failed:
      return "failed";
    case tick_state::queued:
      return "queued";
    case tick_state::sent:
      return "sent";
    case tick_state::delivered:
      return outgoing ? "delivered" : "received";
    case tick_state::read:
      return "read";
  }
  return "unknown";
}

// -- opening ----------------------------------------------------------------------

std::string device_store::path_for(const std::string& home, const std::string& user) {
  return home + "/store/" + user + ".sqlite";
}

outcome<std::unique_ptr<device_store>> device_store::open_for(const std::string& home,
                                                              const std::string& user) {
  for (auto dir : {home, home + "/store"}) {
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
      return failure{failure::kind::local, wire::ErrorCode::INTERNAL,
                     "cannot create " + dir + ": " + std::strerror(errno)};
  }
  return open(path_for(home, user));
}

outcome<std::unique_ptr<device_store>> device_store::open(const std::string& path) {
  sqlite3* db = nullptr;
  auto rc = sqlite3_open_v2(path.c_str(), &db,
                            SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                              | SQLITE_OPEN_NOMUTEX,
                            nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return failure{failure::kind::local, wire::ErrorCode::INTERNAL,
                   "cannot open " + path + ": " + why};
  }
  std::unique_ptr<device_store> store{new device_store(db)};
  // Another process of the same user may hold the write lock for a moment.
  sqlite3_busy_timeout(db, 10000);
  for (auto sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL"}) {
    if (auto ok = store->exec(sql); !ok)
      return ok.error();
  }
  if (auto ok = store->exec(schema); !ok)
    return ok.error();
  if (auto ok = store->migrate(); !ok)
    return ok.error();
  return store;
}

device_store::device_store(sqlite3* db) : db_(db) {
  // nop
}

device_store::~device_store() {
  for (auto& [sql, stmt] : statements_)
    sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

// -- plumbing ---------------------------------------------------------------------

outcome<done> device_store::migrate() {
  for (auto& [column, sql] : added_columns) {
    auto stmt = prepare("SELECT 1 FROM pragma_table_info('messages') WHERE name = ?1");
    if (stmt == nullptr)
      return fail("prepare migrate");
    statement_use use{stmt};
    bind_bytes(stmt, 1, column, false);
    auto rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
      continue;
    if (rc != SQLITE_DONE)
      return fail("migrate");
    if (auto ok = exec(sql); !ok)
      return ok;
  }
  return exec("CREATE INDEX IF NOT EXISTS messages_by_group ON messages(grp, seq) "
              "WHERE grp <> ''");
}

failure device_store::fail(const std::string& what) const {
  return failure{failure::kind::local, wire::ErrorCode::INTERNAL,
                 "device store: " + what + ": " + sqlite3_errmsg(db_)};
}

outcome<done> device_store::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string why = message != nullptr ? message : "unknown error";
    sqlite3_free(message);
    return failure{failure::kind::local, wire::ErrorCode::INTERNAL,
                   "device store: " + why};
  }
  return done{};
}

sqlite3_stmt* device_store::prepare(const char* sql) {
  // Statements are string literals: their address identifies them.
  for (auto& [key, stmt] : statements_)
    if (key == sql)
      return stmt;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr)
      != SQLITE_OK)
    return nullptr;
  statements_.emplace_back(sql, stmt);
  return stmt;
}

outcome<done> device_store::transaction(const std::function<outcome<done>()>& body) {
  if (depth_ > 0) {
    ++depth_;
    auto result = body();
    --depth_;
    return result;
  }
  // IMMEDIATE takes the write lock up front: no deadlock upgrading a read.
  if (auto ok = exec("BEGIN IMMEDIATE"); !ok)
    return ok;
  ++depth_;
  auto result = body();
  --depth_;
  if (!result) {
    exec("ROLLBACK");
    return result;
  }
  if (auto ok = exec("COMMIT"); !ok) {
    exec("ROLLBACK");
    return ok;
  }
  return done{};
}

outcome<std::vector<stored_message>> device_store::select(sqlite3_stmt* stmt) {
  std::vector<stored_message> out;
  for (;;) {
    auto rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE)
      return out;
    if (rc != SQLITE_ROW)
      return fail("query failed");
    stored_message m;
    m.seq = sqlite3_column_int64(stmt, 0);
    m.peer = column_bytes(stmt, 1);
    m.outgoing = sqlite3_column_int(stmt, 2) != 0;
    m.id = column_bytes(stmt, 3);
    m.body = column_bytes(stmt, 4);
    m.state = static_cast<tick_state>(sqlite3_column_int(stmt, 5));
    m.created = sqlite3_column_int64(stmt, 6);
    m.server_time = sqlite3_column_int64(stmt, 7);
    m.error = column_bytes(stmt, 8);
    m.group = column_bytes(stmt, 9);
    out.push_back(std::move(m));
  }
}

// -- the outbox -------------------------------------------------------------------

outcome<stored_message> device_store::enqueue(const std::string& peer,
                                              const std::string& body) {
  auto stmt = prepare("INSERT INTO messages (peer, outgoing, id, body, state, created, grp) "
                      "VALUES (?1, 1, ?2, ?3, 0, ?4, ?5)");
  if (stmt == nullptr)
    return fail("prepare enqueue");
  statement_use use{stmt};
  stored_message m;
  m.peer = peer;
  m.outgoing = true;
  m.id = new_message_id();
  m.body = body;
  m.state = tick_state::queued;
  m.created = now_ms();
  if (!peer.empty() && peer[0] == '#')
    m.group = peer.substr(1);
  bind_bytes(stmt, 1, m.peer, false);
  bind_bytes(stmt, 5, m.group, false);
  bind_bytes(stmt, 2, m.id, true);
  bind_bytes(stmt, 3, m.body, true);
  sqlite3_bind_int64(stmt, 4, m.created);
  if (sqlite3_step(stmt) != SQLITE_DONE)
    return fail("enqueue");
  m.seq = sqlite3_last_insert_rowid(db_);
  return m;
}

outcome<std::optional<std::string>> device_store::wire_of(int64_t seq) {
  auto stmt = prepare("SELECT wire FROM messages WHERE seq = ?1 AND wire IS NOT NULL");
  if (stmt == nullptr)
    return fail("prepare wire_of");
  statement_use use{stmt};
  sqlite3_bind_int64(stmt, 1, seq);
  auto rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE)
    return std::optional<std::string>{};
  if (rc != SQLITE_ROW)
    return fail("wire_of");
  return std::optional<std::string>{column_bytes(stmt, 0)};
}

outcome<done> device_store::set_wire(int64_t seq, const std::string& wire) {
  auto stmt = prepare("UPDATE messages SET wire = ?2 WHERE seq = ?1");
  if (stmt == nullptr)
    return fail("prepare set_wire");
  statement_use use{stmt};
  sqlite3_bind_int64(stmt, 1, seq);
  bind_bytes(stmt, 2, wire, true);
  if (sqlite3_step(stmt) != SQLITE_DONE)
    return fail("set_wire");
  return done{};
}

outcome<done> device_store::clear_wire(int64_t seq) {
  auto stmt = prepare("UPDATE messages SET wire = NULL WHERE seq = ?1 AND state = 0");
  if (stmt == nullptr)
    return fail("prepare clear_wire");
  statement_use use{stmt};
  sqlite3_bind_int64(stmt, 1, seq);
  if (sqlite3_step(stmt) != SQLITE_DONE)
    return fail("clear_wire");
  return done{};
}

// -- secrets ------------------------------------------------------------------------

outcome<std::optional<std::string>> device_store::secret(const std::string& kind,
                                                         const std::string& name) {
  auto stmt = prepare("SELECT value FROM secrets WHERE kind = ?1 AND name = ?2");
  if (stmt == nullptr)
    return fail("prepare secret");
  statement_use use{stmt};
  bind_bytes(stmt, 1, kind, false);
  bind_bytes(stmt, 2, name, false);
  auto rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE)
    return std::optional<std::string>{};
  if (rc != SQLITE_ROW)
    return fail("secret");
  return std::optional<std::string>{column_bytes(stmt, 0)};
}

outcome<done> device_store::put_secret(const std::string& kind, const std::string& name,
                                       const std::string& value) {
  auto stmt = prepare("INSERT OR REPLACE INTO secrets (kind, name, value) "
                      "VALUES (?1, ?2, ?3)");
  if (stmt == nullptr)
    return fail("prepare put_secret");
  statement_use use{stmt};
  bind_bytes(stmt, 1, kind, false);
  bind_bytes(stmt, 2, name, false);
  bind_bytes(stmt, 3, value, true);
  if (sqlite3_step(stmt) != SQLITE_DONE)
    return fail("put_secret");
  return done{};
}

outcome<done> device_store::erase_secret(const std::string& kind, const std::string& name) {
  auto stmt = prepare("DELETE FROM secrets WHERE kind = ?1 AND name = ?2");
  if (stmt == nullptr)
    return fail("prepare erase_secret");
  statement_use use{stmt};
  bind_bytes(stmt, 1, kind, false);
  bind_bytes(stmt, 2, name, false);
  if (sqlite3_step(stmt) != SQLITE_DONE)
    return fail("erase_secret");
  return done{};
}

outcome<std::vector<stored_message>> device_store::outbox(int64_t after, size_t limit) {
  static constexpr const char* sql =
    "SELECT seq, peer, outgoing, id, body, state, created, server_time, error, grp "
    "FROM messages WHERE outgoing = 1 AND state = 0 AND seq > ?1 ORDER BY seq LIMIT ?2";
  auto stmt = prepare(sql);
  if (stmt == nullptr)
    return fail("prepare outbox");
  statement_use use{stmt};
  sqlite3_bind_int64(stmt, 1, after);
  sqlite3_bind_int64(stmt, 2,
                     limit >= static_cast<size_t>(INT64_MAX) ? INT64_MAX
                                                            : static_cast<int64_t>(limit));
  return select(stmt);
}

outcome<size_t> device_store::outbox_size() {
  auto stmt = prepare("SELECT count(*) FROM messages WHERE outgoing = 1 AND state = 0");
  if (stmt == nullptr)
    return fail("prepare outbox size");
  statement_use use{stmt};
  if (sqlite3_step(stmt) != SQLITE_ROW)
    return fail("outbox size");
  return static_cast<size_t>(sqlite3_column_int64(stmt, 0));
}

// -- ticks of ours ----------------------------------------------------------------

outcome<tick_result> device_store::record_tick(const std::string& peer,
                                               const std::string& id, tick_state state,
                                               int64_t server_time) {
  auto stmt = prepare(
    "UPDATE messages SET state = ?3, "
    "server_time = CASE WHEN server_time = 0 THEN ?4 ELSE server_time END "
    "WHERE outgoing = 1 AND peer = ?1 AND id = ?2 AND state >= 0 AND state < ?3");
  if (stmt == nullptr)
    return fail("prepare record_tick");
  statement_use use{stmt};
  bind_bytes(stmt, 1, peer, false);
  bind_bytes(stmt, 2, id, true);
  sqlite3_bind_int(stmt, 3, static_cast<int>(state));
  sqlite3_bind_int64(stmt, 4, server_time);
  if (sqlite3_step(stmt) != SQLITE_DONE)
    return fail("record_tick");
  if (sqlite3_changes(db_) > 0)
    return tick_result::advanced;
  auto known = prepare("SELECT 1 FROM messages WHERE outgoing = 1 AND peer = ?1 AND id = ?2");
  if (known == nullptr)
    return fail("prepare record_tick");
  statement_use use_known{known};
  bind_bytes(known, 1, peer, false);
  bind_bytes(known, 2, id, true);
  auto rc = sqlite3_step(known);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return fail("record_tick");
  return rc == SQLITE_ROW ? tick_result::unchanged : tick_result::unknown;
}

outcome<done> device_store::mark_failed(const std::string& peer, const std::string& id,
                                        const std::string& why) {
  auto stmt = prepare("UPDATE messages SET state = -1, error = ?3 "
                      "WHERE outgoing = 1 AND peer = ?1 AND id = ?2 AND state = 0");
  if (stmt == nullptr)
    return fail("prepare mark_failed");
  statement_use use{stmt};
  bind_bytes(stmt, 1, peer, false);
  bind_bytes(stmt, 2, id, true);
  bind_bytes(stmt, 3, why, false);
  if (sqlite3_step(stmt) != SQLITE_DONE)
    return fail("mark_failed");
  return done{};
}

// -- theirs -----------------------------------------------------------------------

outcome<bool> device_store::was_received(const std::string& sender,
                                         const std::string& id) {
  auto stmt = prepare("SELECT 1 FROM received WHERE sender = ?1 AND id = ?2");
  if (stmt == nullptr)
    return fail("prepare was_received");
  statement_use use{stmt};
  bind_bytes(stmt, 1, sender, false);
  bind_bytes(stmt, 2, id, true);
  auto rc = sqlite3_step(stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return fail("was_received");
  return rc == SQLITE_ROW;
}

outcome<bool> device_store::record_incoming(const message& m) {
  bool fresh = false;
  auto ok = transaction([&]() -> outcome<done> {
    auto mark = prepare("INSERT OR IGNORE INTO received (sender, id) VALUES (?1, ?2)");
    if (mark == nullptr)
      return fail("prepare record_incoming");
    {
      statement_use use{mark};
      bind_bytes(mark, 1, m.from, false);
      bind_bytes(mark, 2, m.id, true);
      if (sqlite3_step(mark) != SQLITE_DONE)
        return fail("record_incoming");
      fresh = sqlite3_changes(db_) > 0;
    }
    if (!fresh)
      return done{};
    auto add = prepare(
      "INSERT INTO messages (peer, outgoing, id, body, state, created, server_time, grp) "
      "VALUES (?1, 0, ?2, ?3, 2, ?4, ?5, ?6)");
    if (add == nullptr)
      return fail("prepare record_incoming");
    statement_use use{add};
    bind_bytes(add, 1, m.from, false);
    bind_bytes(add, 2, m.id, true);
    bind_bytes(add, 3, m.payload, true);
    sqlite3_bind_int64(add, 4, now_ms());
    sqlite3_bind_int64(add, 5, m.server_time);
    bind_bytes(add, 6, to_hex(m.group), false);
    if (sqlite3_step(add) != SQLITE_DONE)
      return fail("record_incoming");
    return done{};
  });
  if (!ok)
    return ok.error();
  return fresh;
}

outcome<std::vector<std::string>> device_store::mark_read(
  const std::string& sender, const std::vector<std::string>& ids) {
  std::vector<std::string> changed;
  auto ok = transaction([&]() -> outcome<done> {
    auto stmt = prepare("UPDATE messages SET state = 3, read_unconfirmed = 1 "
                        "WHERE outgoing = 0 AND peer = ?1 AND id = ?2 AND state < 3");
    if (stmt == nullptr)
      return fail("prepare mark_read");
    for (auto& id : ids) {
      statement_use use{stmt};
      bind_bytes(stmt, 1, sender, false);
      bind_bytes(stmt, 2, id, true);
      if (sqlite3_step(stmt) != SQLITE_DONE)
        return fail("mark_read");
      if (sqlite3_changes(db_) > 0)
        changed.push_back(id);
    }
    return done{};
  });
  if (!ok)
    return ok.error();
  return changed;
}

outcome<std::vector<stored_message>> device_store::unconfirmed_reads() {
  static constexpr const char* sql =
    "SELECT seq, peer, outgoing, id, body, state, created, server_time, error, grp "
    "FROM messages WHERE read_unconfirmed = 1 ORDER BY seq";
  auto stmt = prepare(sql);
  if (stmt == nullptr)
    return fail("prepare unconfirmed_reads");
  statement_use use{stmt};
  return select(stmt);
}

outcome<done> device_store::confirm_reads(const std::string& sender,
                                          const std::vector<std::string>& ids) {
  return transaction([&]() -> outcome<done> {
    auto stmt = prepare("UPDATE messages SET read_unconfirmed = 0 "
                        "WHERE outgoing = 0 AND peer = ?1 AND id = ?2");
    if (stmt == nullptr)
      return fail("prepare confirm_reads");
    for (auto& id : ids) {
      statement_use use{stmt};
      bind_bytes(stmt, 1, sender, false);
      bind_bytes(stmt, 2, id, true);
      if (sqlite3_step(stmt) != SQLITE_DONE)
        return fail("confirm_reads");
    }
    return done{};
  });
}

// -- the history ------------------------------------------------------------------

outcome<std::vector<stored_message>> device_store::history(const std::string& peer,
                                                           size_t limit) {
  // The last `limit`, oldest first.
  static constexpr const char* sql =
    "SELECT * FROM (SELECT seq, peer, outgoing, id, body, state, created, "
    "server_time, error, grp FROM messages WHERE peer = ?1 AND grp = '' "
    "ORDER BY seq DESC LIMIT ?2) ORDER BY seq";
  // A group's conversation: both ways, under the group's hex id.
  static constexpr const char* group_sql =
    "SELECT * FROM (SELECT seq, peer, outgoing, id, body, state, created, "
    "server_time, error, grp FROM messages WHERE grp = ?1 "
    "ORDER BY seq DESC LIMIT ?2) ORDER BY seq";
  bool group = !peer.empty() && peer[0] == '#';
  if (group)
    return query_history(group_sql, peer.substr(1), limit);
  return query_history(sql, peer, limit);
}

outcome<std::vector<stored_message>> device_store::query_history(const char* sql,
                                                                 const std::string& key,
                                                                 size_t limit) {
  auto stmt = prepare(sql);
  if (stmt == nullptr)
    return fail("prepare history");
  statement_use use{stmt};
  bind_bytes(stmt, 1, key, false);
  sqlite3_bind_int64(stmt, 2,
                     limit >= static_cast<size_t>(INT64_MAX) ? INT64_MAX
                                                            : static_cast<int64_t>(limit));
  return select(stmt);
}

outcome<std::vector<stored_message>> device_store::all_messages() {
  static constexpr const char* sql =
    "SELECT seq, peer, outgoing, id, body, state, created, server_time, error, grp "
    "FROM messages ORDER BY seq";
  auto stmt = prepare(sql);
  if (stmt == nullptr)
    return fail("prepare all_messages");
  statement_use use{stmt};
  return select(stmt);
}

outcome<size_t> device_store::count_outgoing_below(tick_state state) {
  auto stmt = prepare(
    "SELECT count(*) FROM messages WHERE outgoing = 1 AND state >= 0 AND state < ?1");
  if (stmt == nullptr)
    return fail("prepare count_outgoing_below");
  statement_use use{stmt};
  sqlite3_bind_int(stmt, 1, static_cast<int>(state));
  if (sqlite3_step(stmt) != SQLITE_ROW)
    return fail("count_outgoing_below");
  return static_cast<size_t>(sqlite3_column_int64(stmt, 0));
}

// -- groups -----------------------------------------------------------------------

outcome<done> device_store::mark_received(const std::string& sender, const std::string& id) {
  auto stmt = prepare("INSERT OR IGNORE INTO received (sender, id) VALUES (?1, ?2)");
  if (stmt == nullptr)
    return fail("prepare mark_received");
  statement_use use{stmt};
  bind_bytes(stmt, 1, sender, false);
  bind_bytes(stmt, 2, id, true);
  if (sqlite3_step(stmt) != SQLITE_DONE)
    return fail("mark_received");
  return done{};
}

outcome<std::optional<stored_message>> device_store::outgoing_by_id(const std::string& id) {
  static constexpr const char* sql =
    "SELECT seq, peer, outgoing, id, body, state, created, server_time, error, grp "
    "FROM messages WHERE outgoing = 1 AND id = ?1";
  auto stmt = prepare(sql);
  if (stmt == nullptr)
    return fail("prepare outgoing_by_id");
  statement_use use{stmt};
  bind_bytes(stmt, 1, id, true);
  auto found = select(stmt);
  if (!found)
    return found.error();
  if (found->empty())
    return std::optional<stored_message>{};
  return std::optional<stored_message>{std::move(found->front())};
}

outcome<done> device_store::put_group(const group_info& g) {
  std::string members;
  for (auto& m : g.members)
    members += m.user + (m.admin ? "*\n" : "\n");
  auto stmt = prepare("INSERT OR REPLACE INTO groups (id, name, epoch, members, stale) "
                      "VALUES (?1, ?2, ?3, ?4, 0)");
  if (stmt == nullptr)
    return fail("prepare put_group");
  statement_use use{stmt};
  bind_bytes(stmt, 1, to_hex(g.group), false);
  bind_bytes(stmt, 2, g.name, false);
  sqlite3_bind_int64(stmt, 3, static_cast<int64_t>(g.epoch));
  bind_bytes(stmt, 4, members, false);
  if (sqlite3_step(stmt) != SQLITE_DONE)
    return fail("put_group");
  return done{};
}

outcome<std::optional<cached_group>> device_store::group(const std::string& group_hex) {
  auto stmt = prepare("SELECT name, epoch, members, stale FROM groups WHERE id = ?1");
  if (stmt == nullptr)
    return fail("prepare group");
  statement_use use{stmt};
  bind_bytes(stmt, 1, group_hex, false);
  auto rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE)
    return std::optional<cached_group>{};
  if (rc != SQLITE_ROW)
    return fail("group");
  cached_group c;
  c.info.group = from_hex(group_hex).value_or(std::string());
  c.info.name = column_bytes(stmt, 0);
  c.info.epoch = static_cast<uint64_t>(sqlite3_column_int64(stmt, 1));
  auto members = column_bytes(stmt, 2);
  for (size_t pos = 0; pos < members.size();) {
    auto end = members.find('\n', pos);
    if (end == std::string::npos)
      end = members.size();
    auto line = members.substr(pos, end - pos);
    bool admin = !line.empty() && line.back() == '*';
    if (admin)
      line.pop_back();
    if (!line.empty())
      c.info.members.push_back({line, admin});
    pos = end + 1;
  }
  c.stale = sqlite3_column_int(stmt, 3) != 0;
  return std::optional<cached_group>{std::move(c)};
}

outcome<done> device_store::mark_group_stale(const std::string& group_hex) {
  auto stmt = prepare("UPDATE groups SET stale = 1 WHERE id = ?1");
  if (stmt == nullptr)
    return fail("prepare mark_group_stale");
  statement_use use{stmt};
  bind_bytes(stmt, 1, group_hex, false);
  if (sqlite3_step(stmt) != SQLITE_DONE)
    return fail("mark_group_stale");
  return done{};
}

outcome<done> device_store::forget_group(const std::string& group_hex) {
  auto stmt = prepare("DELETE FROM groups WHERE id = ?1");
  if (stmt == nullptr)
    return fail("prepare forget_group");
  statement_use use{stmt};
  bind_bytes(stmt, 1, group_hex, false);
  if (sqlite3_step(stmt) != SQLITE_DONE)
    return fail("forget_group");
  return done{};
}

outcome<std::vector<cached_group>> device_store::groups() {
  auto stmt = prepare("SELECT id FROM groups ORDER BY name");
  if (stmt == nullptr)
    return fail("prepare groups");
  std::vector<std::string> ids;
  {
    statement_use use{stmt};
    for (;;) {
      auto rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE)
        break;
      if (rc != SQLITE_ROW)
        return fail("groups");
      ids.push_back(column_bytes(stmt, 0));
    }
  }
  std::vector<cached_group> out;
  for (auto& id : ids) {
    auto g = group(id);
    if (!g)
      return g.error();
    if (*g)
      out.push_back(std::move(**g));
  }
  return out;
}

} // namespace parley::client
