#include "actors/store/groups.hpp"

#include "actors/store/keys.hpp"

namespace parley {

namespace {

forwarded_receipt aggregate(const std::string& group, const std::string& sender,
                            const std::string& id, wire::ReceiptState state,
                            int64_t time) {
  return forwarded_receipt{sender,
                           group_peer(group),
                           id,
                           static_cast<uint8_t>(state),
                           time,
                           static_cast<uint8_t>(receipt_kind::aggregate),
                           group};
}

} // namespace

std::optional<group_state> group_tables::group(const std::string& group) {
  if (auto i = groups_.find(group); i != groups_.end())
    return i->second;
  std::string value;
  if (!db_.get(keys::group(group), &value).ok())
    return std::nullopt;
  return decode_group(value, group);
}

void group_tables::put_group(const group_state& g) {
  batch_.Put(keys::group(g.group), encode(g));
  groups_[g.group] = g;
}

std::optional<group_message_entry> group_tables::message(const std::string& group,
                                                         const std::string& sender,
                                                         const std::string& id) {
  auto key = keys::group_message(group, sender, id);
  if (auto i = messages_.find(key); i != messages_.end())
    return i->second;
  std::string value;
  if (!db_.get(key, &value).ok())
    return std::nullopt;
  return decode_group_message(value);
}

std::vector<forwarded_receipt> group_tables::put_message(const std::string& group,
                                                         const std::string& sender,
                                                         const std::string& id,
                                                         const group_message_entry& entry) {
  auto key = keys::group_message(group, sender, id);
  batch_.Put(key, encode(entry));
  messages_[key] = entry;
  group_counts c{entry.recipients.size(), 0, 0};
  auto counts_key = keys::group_counts(group, sender, id);
  batch_.Put(counts_key, encode(c));
  counts_[counts_key] = c;
  if (!entry.recipients.empty())
    return {};
  // Nobody to wait for: every recipient has it, vacuously.
  return {aggregate(group, sender, id, wire::ReceiptState::DELIVERED, entry.time),
          aggregate(group, sender, id, wire::ReceiptState::READ, entry.time)};
}

std::optional<group_counts> group_tables::counts(const std::string& key) {
  if (auto i = counts_.find(key); i != counts_.end())
    return i->second;
  std::string value;
  if (!db_.get(key, &value).ok())
    return std::nullopt;
  return decode_group_counts(value);
}

std::vector<forwarded_receipt> group_tables::take_receipt(const forwarded_receipt& r) {
  auto counts_key = keys::group_counts(r.group, r.to, r.id);
  auto c = counts(counts_key);
  if (!c)
    return {};  // not a message of this group's ledger
  auto key = keys::group_receipt(r.group, r.to, r.id, r.from);
  uint8_t known = 0;
  if (auto i = receipts_.find(key); i != receipts_.end()) {
    known = i->second;
  } else if (std::string value; db_.get(key, &value).ok()) {
    if (auto decoded = decode_member_receipt(value))
      known = decoded->first;
  }
  if (r.state <= known)
    return {};
  batch_.Put(key, encode_member_receipt(r.state, r.time));
  receipts_[key] = r.state;
  auto delivered = static_cast<uint8_t>(wire::ReceiptState::DELIVERED);
  auto read = static_cast<uint8_t>(wire::ReceiptState::READ);
  std::vector<forwarded_receipt> out;
  // Read implies delivered: a recipient may go from nothing to read at once.
  if (known < delivered && r.state >= delivered && ++c->delivered == c->recipients)
    out.push_back(aggregate(r.group, r.to, r.id, wire::ReceiptState::DELIVERED, r.time));
  if (known < read && r.state >= read && ++c->read == c->recipients)
    out.push_back(aggregate(r.group, r.to, r.id, wire::ReceiptState::READ, r.time));
  batch_.Put(counts_key, encode(*c));
  counts_[counts_key] = *c;
  return out;
}

std::optional<message_info> group_tables::info(const std::string& group,
                                               const std::string& sender,
                                               const std::string& id) {
  auto entry = message(group, sender, id);
  if (!entry)
    return std::nullopt;
  std::unordered_map<std::string, std::pair<uint8_t, int64_t>> states;
  auto begin = keys::group_receipts_begin(group, sender, id);
  db_.scan(begin, keys::group_receipts_end(group, sender, id),
           [&](std::string_view key, std::string_view value) {
             if (auto decoded = decode_member_receipt(value))
               states[std::string(key.substr(begin.size()))] = *decoded;
             return true;
           });
  message_info out;
  out.time = entry->time;
  out.recipients.reserve(entry->recipients.size());
  for (auto& user : entry->recipients) {
    recipient_state s{user, static_cast<uint8_t>(wire::ReceiptState::SENT), 0};
    if (auto i = states.find(user); i != states.end()) {
      s.state = i->second.first;
      s.time = i->second.second;
    }
    out.recipients.push_back(std::move(s));
  }
  return out;
}

void group_tables::clear_staged() {
  groups_.clear();
  messages_.clear();
  counts_.clear();
  receipts_.clear();
}

} // namespace parley
