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
  } else {
    auto rcpt = root.initReceipt();
    rcpt.setPeer(x.peer);
    rcpt.setId(as_data(x.id));
    rcpt.setState(x.state);
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
      } else {
        auto rcpt = r.getReceipt();
        x.kind = static_cast<uint8_t>(item_kind::receipt);
        x.peer = rcpt.getPeer();
        x.id = view(rcpt.getId());
        x.state = rcpt.getState();
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
  return to_bytes(message);
}

std::optional<forwarded_receipt> decode_forward(std::string_view bytes) {
  return read_record<disk::ForwardRecord>(bytes, [](disk::ForwardRecord::Reader r) {
    return forwarded_receipt{r.getTo(), r.getFrom(), std::string(view(r.getId())),
                             r.getState(), r.getTime()};
  });
}

// -- fixed layouts ---------------------------------------------------------------

std::string encode(const message_status& x) {
  std::string out;
  out.reserve(17);
  put_le(out, x.seq);
  out += static_cast<char>(x.state);
  put_le(out, x.time);
  return out;
}

std::optional<message_status> decode_status(std::string_view bytes) {
  if (bytes.size() != 17 || static_cast<uint8_t>(bytes[8]) > 2)
    return std::nullopt;
  message_status x;
  x.seq = get_le<uint64_t>(bytes.data());
  x.state = static_cast<message_state>(bytes[8]);
  x.time = get_le<int64_t>(bytes.data() + 9);
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
