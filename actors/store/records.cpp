#include "actors/store/records.hpp"

#include "schema/bytes.hpp"
#include "schema/records.capnp.h"

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cstring>
#include <vector>

namespace parley {

namespace {

// Records are small: a first segment of 8 KiB (the default) would be allocated
// and zeroed for each of them (8% of a message's instructions in W2).
constexpr unsigned first_segment_words = 64;

std::string to_bytes(capnp::MessageBuilder& message) {
  auto words = capnp::messageToFlatArray(message);
  auto bytes = words.asChars();
  return std::string(bytes.begin(), bytes.size());
}

/// Runs `read` on a Cap'n Proto record; nothing if the bytes are not one.
template <class Root, class F>
auto read_record(std::string_view bytes, F read)
  -> std::optional<decltype(read(std::declval<typename Root::Reader>()))> {
  if (bytes.empty() || bytes.size() % sizeof(capnp::word) != 0)
    return std::nullopt;
  // RocksDB values are not 8-byte aligned; the reader needs them to be.
  std::vector<uint64_t> words(bytes.size() / sizeof(capnp::word));
  std::memcpy(words.data(), bytes.data(), bytes.size());
  try {
    capnp::FlatArrayMessageReader reader(
      kj::arrayPtr(reinterpret_cast<const capnp::word*>(words.data()), words.size()));
    return read(reader.getRoot<Root>());
  } catch (const kj::Exception&) {
    return std::nullopt;
  }
}

template <class T>
void put_le(std::string& out, T x) {
  char buf[sizeof(T)];
  std::memcpy(buf, &x, sizeof(T));  // x86-64 and arm64 are little-endian
  out.append(buf, sizeof(T));
}

template <class T>
T get_le(const char* in) {
  T x;
  std::memcpy(&x, in, sizeof(T));
  return x;
}

} // namespace

// -- user ------------------------------------------------------------------------

std::string encode(const user_record& x) {
  capnp::MallocMessageBuilder message(first_segment_words);
  auto root = message.initRoot<disk::UserRecord>();
  root.setIdentityKey(as_data(x.identity_key));
  root.setRegisteredAt(x.registered_at);
  return to_bytes(message);
}

std::optional<user_record> decode_user(std::string_view bytes) {
  return read_record<disk::UserRecord>(bytes, [](disk::UserRecord::Reader r) {
    return user_record{std::string(view(r.getIdentityKey())),
                       r.getRegisteredAt()};
  });
}

// -- inbox -----------------------------------------------------------------------

std::string encode_inbox(const inbox_item& x) {
  capnp::MallocMessageBuilder message(first_segment_words);
  auto root = message.initRoot<disk::InboxRecord>();
  root.setTime(x.time);
  if (x.what() == item_kind::message) {
    auto msg = root.initMessage();
    msg.setFrom(x.peer);
    msg.setId(as_data(x.id));
    msg.setPayload(as_data(x.payload));
    msg.setGroup(x.group);
  } else if (x.what() == item_kind::receipt) {
    auto rcpt = root.initReceipt();
    rcpt.setPeer(x.peer);
    rcpt.setId(as_data(x.id));
    rcpt.setState(x.state);
    rcpt.setGroup(x.group);
    auto more = rcpt.initMoreIds(static_cast<unsigned>(x.more_ids.size()));
    for (unsigned i = 0; i < x.more_ids.size(); ++i)
      more.set(i, as_data(x.more_ids[i]));
  } else {
    auto n = root.initNotice();
    n.setGroup(x.group);
    n.setName(x.name);
    n.setEpoch(x.epoch);
    n.setBy(x.peer);
    n.setAction(x.state);
    auto members = n.initMembers(static_cast<unsigned>(x.members.size()));
    for (unsigned i = 0; i < x.members.size(); ++i)
      members.set(i, x.members[i]);
  }
  return to_bytes(message);
}

std::optional<inbox_item> decode_inbox(std::string_view bytes, uint64_t seq) {
  return read_record<disk::InboxRecord>(
    bytes, [seq](disk::InboxRecord::Reader r) {
      inbox_item x;
      x.seq = seq;
      x.time = r.getTime();
      if (r.isMessage()) {
        auto msg = r.getMessage();
        x.kind = static_cast<uint8_t>(item_kind::message);
        x.peer = msg.getFrom();
        x.id = view(msg.getId());
        x.payload = view(msg.getPayload());
        x.group = msg.getGroup();
      } else if (r.isReceipt()) {
        auto rcpt = r.getReceipt();
        x.kind = static_cast<uint8_t>(item_kind::receipt);
        x.peer = rcpt.getPeer();
        x.id = view(rcpt.getId());
        x.state = rcpt.getState();
        x.group = rcpt.getGroup();
        for (auto id : rcpt.getMoreIds())
          x.more_ids.emplace_back(view(id));
      } else {
        auto n = r.getNotice();
        x.kind = static_cast<uint8_t>(item_kind::notice);
        x.group = n.getGroup();
        x.name = n.getName();
        x.epoch = n.getEpoch();
        x.peer = n.getBy();
        x.state = n.getAction();
        x.id = notice_id(x.epoch);
        for (auto m : n.getMembers())
          x.members.emplace_back(m);
      }
      return x;
    });
}

// -- forwarded receipts ----------------------------------------------------------

std::string encode(const forwarded_receipt& x) {
  capnp::MallocMessageBuilder message(first_segment_words);
  auto root = message.initRoot<disk::ForwardRecord>();
  root.setTo(x.to);
  root.setFrom(x.from);
  root.setId(as_data(x.id));
  root.setState(x.state);
  root.setTime(x.time);
  root.setKind(x.kind);
  root.setGroup(x.group);
  return to_bytes(message);
}

std::optional<forwarded_receipt> decode_forward(std::string_view bytes) {
  return read_record<disk::ForwardRecord>(bytes, [](disk::ForwardRecord::Reader r) {
    return forwarded_receipt{r.getTo(),   r.getFrom(), std::string(view(r.getId())),
                             r.getState(), r.getTime(), r.getKind(),
                             r.getGroup()};
  });
}

// -- groups ----------------------------------------------------------------------

std::string encode(const group_state& x) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<disk::GroupRecord>();
  root.setName(x.name);
  root.setEpoch(x.epoch);
  root.setCreatedBy(x.created_by);
  root.setCreatedAt(x.created_at);
  auto members = root.initMembers(static_cast<unsigned>(x.members.size()));
  for (unsigned i = 0; i < x.members.size(); ++i) {
    members[i].setUser(x.members[i].user);
    members[i].setAdmin(x.members[i].admin);
  }
  auto pending = root.initPending(static_cast<unsigned>(x.pending.size()));
  for (unsigned i = 0; i < x.pending.size(); ++i) {
    auto& n = x.pending[i];
    pending[i].setEpoch(n.epoch);
    pending[i].setBy(n.by);
    pending[i].setAction(n.action);
    auto members = pending[i].initMembers(static_cast<unsigned>(n.members.size()));
    for (unsigned j = 0; j < n.members.size(); ++j)
      members.set(j, n.members[j]);
    auto recipients = pending[i].initRecipients(static_cast<unsigned>(n.recipients.size()));
    for (unsigned j = 0; j < n.recipients.size(); ++j)
      recipients.set(j, n.recipients[j]);
    pending[i].setTime(n.time);
  }
  return to_bytes(message);
}

std::optional<group_state> decode_group(std::string_view bytes, std::string_view group) {
  return read_record<disk::GroupRecord>(bytes, [group](disk::GroupRecord::Reader r) {
    group_state x;
    x.group = group;
    x.name = r.getName();
    x.epoch = r.getEpoch();
    x.created_by = r.getCreatedBy();
    x.created_at = r.getCreatedAt();
    for (auto m : r.getMembers())
      x.members.push_back(group_member{m.getUser(), m.getAdmin()});
    for (auto n : r.getPending()) {
      pending_notice p;
      p.epoch = n.getEpoch();
      p.by = n.getBy();
      p.action = n.getAction();
      for (auto m : n.getMembers())
        p.members.emplace_back(m);
      for (auto m : n.getRecipients())
        p.recipients.emplace_back(m);
      p.time = n.getTime();
      x.pending.push_back(std::move(p));
    }
    return x;
  });
}

std::string encode(const group_message_entry& x) {
  capnp::MallocMessageBuilder message;
  auto root = message.initRoot<disk::GroupMessageRecord>();
  root.setTime(x.time);
  auto list = root.initRecipients(static_cast<unsigned>(x.recipients.size()));
  for (unsigned i = 0; i < x.recipients.size(); ++i)
    list.set(i, x.recipients[i]);
  return to_bytes(message);
}

std::optional<group_message_entry> decode_group_message(std::string_view bytes) {
  return read_record<disk::GroupMessageRecord>(
    bytes, [](disk::GroupMessageRecord::Reader r) {
      group_message_entry x;
      x.time = r.getTime();
      for (auto m : r.getRecipients())
        x.recipients.emplace_back(m);
      return x;
    });
}

std::string encode(const group_counts& x) {
  std::string out;
  out.reserve(24);
  put_le(out, x.recipients);
  put_le(out, x.delivered);
  put_le(out, x.read);
  return out;
}

std::optional<group_counts> decode_group_counts(std::string_view bytes) {
  if (bytes.size() != 24)
    return std::nullopt;
  return group_counts{get_le<uint64_t>(bytes.data()), get_le<uint64_t>(bytes.data() + 8),
                      get_le<uint64_t>(bytes.data() + 16)};
}

std::string encode_member_receipt(uint8_t state, int64_t time) {
  std::string out;
  out += static_cast<char>(state);
  put_le(out, time);
  return out;
}

std::optional<std::pair<uint8_t, int64_t>> decode_member_receipt(std::string_view bytes) {
  if (bytes.size() != 9)
    return std::nullopt;
  return std::make_pair(static_cast<uint8_t>(bytes[0]), get_le<int64_t>(bytes.data() + 1));
}

// -- fixed layouts ---------------------------------------------------------------

std::string encode(const message_status& x) {
  std::string out;
  out.reserve(17 + x.group.size());
  put_le(out, x.seq);
  out += static_cast<char>(x.state);
  put_le(out, x.time);
  out += x.group;
  return out;
}

std::optional<message_status> decode_status(std::string_view bytes) {
  if ((bytes.size() != 17 && bytes.size() != 17 + 32)
      || static_cast<uint8_t>(bytes[8]) > 2)
    return std::nullopt;
  message_status x;
  x.seq = get_le<uint64_t>(bytes.data());
  x.state = static_cast<message_state>(bytes[8]);
  x.time = get_le<int64_t>(bytes.data() + 9);
  x.group = bytes.substr(17);
  return x;
}

std::string encode_u64(uint64_t x) {
  std::string out;
  put_le(out, x);
  return out;
}

std::optional<uint64_t> decode_u64(std::string_view bytes) {
  if (bytes.size() != 8)
    return std::nullopt;
  return get_le<uint64_t>(bytes.data());
}

} // namespace parley
