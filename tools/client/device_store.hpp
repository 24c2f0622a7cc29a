// A device's local store for one user: a SQLite database (HOME/store/USER.sqlite,
// next to HOME/keys/) holding the outbox, the message history with each
// message's ticks, and the ids already received.
//
// Contract:
// - enqueue() returns only once the message is committed: from then on it
//   survives the process being killed, and stays in the outbox, with its id,
//   until its sent tick (or a later tick) is recorded, or the node refuses it
//   for good (failed).
// - record_incoming() commits a message and its (sender, id) before the caller
//   acknowledges it to the node, and says whether it was new: a message the
//   node pushes again is recognised by (sender, id) and not stored twice.
// - Ticks only move forward (queued < sent < delivered < read), so receipts that
//   come twice or out of order do no harm.
//
// WAL journal, synchronous=FULL: a commit is fsynced before it returns, because
// what this store promises is acted on at once (the node deletes a message we
// acknowledged; the user is told a message is queued). Several processes of the
// same user may share the file (parley-chat send while listen runs); writers
// wait for each other up to the busy timeout.
//
// Single-threaded: one device_store per thread. Closing is the destructor.
#pragma once

#include "tools/client/client.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace parley::client {

/// Where a message of the history stands. Stored as its number: the order of
/// the numbers is the order of the ticks.
enum class tick_state : int {
  failed = -1,    ///< ours: refused by the node for good (see stored_message::error)
  queued = 0,     ///< ours: in the outbox, no sent tick yet
  sent = 1,       ///< ours: the node has it durably (single tick)
  delivered = 2,  ///< ours: the recipient's device has it (double tick)
  received = 2,   ///< theirs: stored here and acknowledged to the node
  read = 3,       ///< ours: the recipient read it (blue tick); theirs: we read it
};

/// "failed", "queued", "sent", "delivered"/"received" (by direction), "read".
const char* tick_name(tick_state state, bool outgoing);

/// What recording a tick did.
enum class tick_result {
  unknown,    ///< no such message of ours on this device
  unchanged,  ///< it was there already, or further (or failed)
  advanced,   ///< its state moved forward
};

/// One message of the history, either way.
struct stored_message {
  int64_t seq = 0;          ///< local order: the order this device stored them in
  std::string peer;         ///< the recipient of ours, the sender of theirs
  bool outgoing = false;
  std::string id;           ///< 16 bytes
  std::string body;
  tick_state state = tick_state::queued;
  int64_t created = 0;      ///< ms since the epoch, this device's clock
  int64_t server_time = 0;  ///< ms since the epoch, the node's clock; 0 if unknown
  std::string error;        ///< why the node refused it (failed only)
  std::string group{};      ///< a group message: the group's hex id; ours then have
                            ///< the peer "#" and that id
};

/// A group as this device last heard of it.
struct cached_group {
  group_info info;
  bool stale = false;  ///< a notice said it changed since: ask its home node
};

/// A user's SQLite database on this device. Not copyable; single-threaded.
class device_store {
public:
  /// Opens (creating if needed) the database at `path`; its folder must exist.
  static outcome<std::unique_ptr<device_store>> open(const std::string& path);

  /// Opens HOME/store/USER.sqlite, creating the folder (mode 0700) if needed.
  static outcome<std::unique_ptr<device_store>> open_for(const std::string& home,
                                                         const std::string& user);

  /// HOME/store/USER.sqlite
  static std::string path_for(const std::string& home, const std::string& user);

  ~device_store();

  device_store(const device_store&) = delete;
  device_store& operator=(const device_store&) = delete;

  /// Runs `body` in one write transaction: everything it records is committed
  /// (and fsynced) together, or, if `body` fails, nothing. Transactions nest:
  /// an inner one joins the outer.
  outcome<done> transaction(const std::function<outcome<done>()>& body);

  // -- the outbox ----------------------------------------------------------------

  /// Stores a new message to `peer` with a fresh id, queued; committed when it
  /// returns (unless inside a transaction()).
  outcome<stored_message> enqueue(const std::string& peer, const std::string& body);

  /// Queued messages in the order they were enqueued, those after local `after`
  /// only, at most `limit`.
  outcome<std::vector<stored_message>> outbox(int64_t after = 0,
                                              size_t limit = SIZE_MAX);

  /// How many of ours are queued.
  outcome<size_t> outbox_size();

  /// The payload an outbox message went out as, once it was sealed (end-to-end
  /// encrypted): retransmissions repeat it exactly.
  outcome<std::optional<std::string>> wire_of(int64_t seq);
  outcome<done> set_wire(int64_t seq, const std::string& wire);
  /// Forgets the payload an outbox message was sealed as: it is sealed again
  /// (a group message refused as sealed for a group that changed since).
  outcome<done> clear_wire(int64_t seq);

  /// End-to-end secrets by kind and name (prekeys, sessions, contacts' keys).
  outcome<std::optional<std::string>> secret(const std::string& kind,
                                             const std::string& name);
  outcome<done> put_secret(const std::string& kind, const std::string& name,
                           const std::string& value);
  outcome<done> erase_secret(const std::string& kind, const std::string& name);

  // -- ticks of ours ---------------------------------------------------------------

  /// Moves our message `id` to `peer` forward to `state` (never back; a failed
  /// one stays failed). `server_time` is kept if the message had none yet.
  outcome<tick_result> record_tick(const std::string& peer, const std::string& id,
                            tick_state state, int64_t server_time);

  /// The node refused our queued message for good: it leaves the outbox.
  outcome<done> mark_failed(const std::string& peer, const std::string& id,
                            const std::string& why);

  // -- theirs ----------------------------------------------------------------------

  /// Stores an incoming message unless (m.from, m.id) was received before.
  /// Returns true if it was new.
  outcome<bool> record_incoming(const message& m);

  /// Whether (sender, id) was received before.
  outcome<bool> was_received(const std::string& sender, const std::string& id);

  /// Marks theirs read. Returns the ids that were not read before (to tell the
  /// node about), and flags them until confirm_reads().
  outcome<std::vector<std::string>> mark_read(const std::string& sender,
                                              const std::vector<std::string>& ids);

  /// Read messages whose read acknowledgement the node has not confirmed yet.
  outcome<std::vector<stored_message>> unconfirmed_reads();

  /// The node has these read acknowledgements.
  outcome<done> confirm_reads(const std::string& sender,
                              const std::vector<std::string>& ids);

  // -- the history -----------------------------------------------------------------

  /// The conversation with `peer`, both ways, in local order; the last `limit`.
  /// A group's ("#" and its hex id) holds every member's messages.
  outcome<std::vector<stored_message>> history(const std::string& peer,
                                               size_t limit = SIZE_MAX);

  /// Every message, both ways, in local order.
  outcome<std::vector<stored_message>> all_messages();

  /// How many of ours have not reached `state` yet (failed ones excluded).
  outcome<size_t> count_outgoing_below(tick_state state);

  // -- groups ------------------------------------------------------------------------
  //
  // A group's conversation has the key "#" and the group's hex id: ours go to
  // that peer (enqueue("#" + hex, body)), theirs are filed under their sender
  // with the group noted, and history("#" + hex) shows both.

  /// Notes (sender, id) as received without a message in the history: what the
  /// device acted on itself (a sender key) must not be acted on twice.
  outcome<done> mark_received(const std::string& sender, const std::string& id);

  /// One of ours by its id, whatever the conversation.
  outcome<std::optional<stored_message>> outgoing_by_id(const std::string& id);

  outcome<done> put_group(const group_info& g);
  outcome<std::optional<cached_group>> group(const std::string& group_hex);
  outcome<done> mark_group_stale(const std::string& group_hex);
  outcome<done> forget_group(const std::string& group_hex);
  outcome<std::vector<cached_group>> groups();

private:
  explicit device_store(sqlite3* db);

  /// A statement prepared once and reset for every use.
  sqlite3_stmt* prepare(const char* sql);
  outcome<done> exec(const char* sql);
  failure fail(const std::string& what) const;
  outcome<std::vector<stored_message>> select(sqlite3_stmt* stmt);
  outcome<std::vector<stored_message>> query_history(const char* sql, const std::string& key,
                                                     size_t limit);
  /// Adds what later versions added to the schema.
  outcome<done> migrate();

  sqlite3* db_;
  std::vector<std::pair<const char*, sqlite3_stmt*>> statements_;
  int depth_ = 0;  // transaction nesting
};

} // namespace parley::client
