// The group part of the store: the records a group's home node keeps for it.
//
// - the group itself (name, epoch, members and admins);
// - its ledger: every group message sent to it, with the recipients fixed when
//   it was sent, and for each recipient the latest receipt state;
// - the counts of recipients that have each message delivered and read, from
//   which the aggregate receipts for the sender come: delivered once every
//   recipient has it, read once every recipient has read it.
//
// group_tables stages its writes into the store's batch and reads through what
// is staged, like the store itself; the store calls clear_staged() after every
// write, successful or not. It belongs to the store actor and shares its thread.
#pragma once

#include "actors/group/group_messages.hpp"
#include "actors/messages.hpp"
#include "actors/store/database.hpp"
#include "actors/store/records.hpp"

#include <rocksdb/write_batch.h>

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace parley {

class group_tables {
public:
  group_tables(database& db, rocksdb::WriteBatch& batch) : db_(db), batch_(batch) {
    // nop
  }

  /// The group homed here with hex id `group`, if any.
  std::optional<group_state> group(const std::string& group);

  void put_group(const group_state& g);

  /// A group message of the ledger, if it was sent.
  std::optional<group_message_entry> message(const std::string& group,
                                             const std::string& sender,
                                             const std::string& id);

  /// Enters a group message into the ledger. Returns the aggregate receipts it
  /// completes at once (all of them when it has no recipients).
  std::vector<forwarded_receipt> put_message(const std::string& group,
                                             const std::string& sender,
                                             const std::string& id,
                                             const group_message_entry& entry);

  /// Takes in one recipient's receipt (kind member): `r.to` is the sender,
  /// `r.from` the recipient. A state no newer than the one known changes
  /// nothing, so a forwarded batch that comes twice counts once. Returns the
  /// aggregate receipts for the sender that this one completes.
  std::vector<forwarded_receipt> take_receipt(const forwarded_receipt& r);

  /// Every recipient's state of one of `sender`'s messages, if it was sent, as
  /// written (the store asks after its write, so nothing is left staged).
  std::optional<message_info> info(const std::string& group, const std::string& sender,
                                   const std::string& id);

  /// Forgets what was staged: it was written, or the write failed.
  void clear_staged();

private:
  std::optional<group_counts> counts(const std::string& key);

  database& db_;
  rocksdb::WriteBatch& batch_;
  // Staged values, read before the disk until the batch is written.
  std::unordered_map<std::string, group_state> groups_;
  std::unordered_map<std::string, group_message_entry> messages_;
  std::unordered_map<std::string, group_counts> counts_;
  std::unordered_map<std::string, uint8_t> receipts_;  // member receipt states
};

} // namespace parley
