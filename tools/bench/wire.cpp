#include "tools/bench/wire.hpp"

#include "schema/bytes.hpp"
#include "schema/frame.hpp"
#include "schema/protocol.capnp.h"

#include <capnp/message.h>

#include <algorithm>
#include <cstring>

namespace parley::bench {

namespace {

// The largest frame the bench writes is an Ack of max_ack_ids ids: well within.
constexpr size_t scratch_words = 8 * 1024;

} // namespace

void write_stamp(const stamp& s, unsigned char* payload, size_t size) {
  unsigned char head[stamp_bytes] = {};
  std::memcpy(head, &s.run_code, 4);
  std::memcpy(head + 4, &s.sender, 4);
  std::memcpy(head + 8, &s.recipient, 4);
  std::memcpy(head + 16, &s.seq, 8);
  std::memcpy(head + 24, &s.sent_ns, 8);
  std::memcpy(payload, head, std::min(size, stamp_bytes));
  if (size > stamp_bytes)
    std::memset(payload + stamp_bytes, 'x', size - stamp_bytes);
}

std::optional<stamp> read_stamp(std::string_view payload) {
  if (payload.size() < stamp_bytes)
    return std::nullopt;
  stamp s;
  auto p = payload.data();
  std::memcpy(&s.run_code, p, 4);
  std::memcpy(&s.sender, p + 4, 4);
  std::memcpy(&s.recipient, p + 8, 4);
  std::memcpy(&s.seq, p + 16, 8);
  std::memcpy(&s.sent_ns, p + 24, 8);
  return s;
}

message_id make_id(uint32_t run_code, uint32_t sender, uint64_t seq) {
  message_id id{};
  std::memcpy(id.data(), &run_code, 4);
  std::memcpy(id.data() + 4, &sender, 4);
  std::memcpy(id.data() + 8, &seq, 8);
  return id;
}

std::optional<id_parts> read_id(std::string_view id) {
  if (id.size() != 16)
    return std::nullopt;
  id_parts parts;
  std::memcpy(&parts.run_code, id.data(), 4);
  std::memcpy(&parts.sender, id.data() + 4, 4);
  std::memcpy(&parts.seq, id.data() + 8, 8);
  return parts;
}

encoder::encoder() : scratch_(scratch_words) {
  // nop: value-initialised words are zero, as MallocMessageBuilder requires
}

template <class Fill>
void encoder::write(out_buffer& out, Fill fill) {
  capnp::MallocMessageBuilder message(kj::arrayPtr(scratch_.data(), scratch_.size()));
  fill(message.initRoot<wire::ClientFrame>());
  append_frame(message, out);
  // The builder zeroes what it used when it goes, ready for the next frame.
}

void encoder::register_user(out_buffer& out, std::string_view user,
                            std::string_view public_key) {
  write(out, [&](wire::ClientFrame::Builder f) {
    auto r = f.initRegister();
    r.setUser(as_text(user));
    r.setIdentityKey(as_data(public_key));
  });
}

void encoder::login(out_buffer& out, std::string_view user) {
  write(out, [&](wire::ClientFrame::Builder f) { f.initLogin().setUser(as_text(user)); });
}

void encoder::prove(out_buffer& out, std::string_view signature) {
  write(out, [&](wire::ClientFrame::Builder f) {
    f.initProve().setSignature(as_data(signature));
  });
}

void encoder::send(out_buffer& out, const message_id& id, std::string_view to,
                   std::string_view payload) {
  write(out, [&](wire::ClientFrame::Builder f) {
    auto s = f.initSend();
    s.setId(capnp::Data::Reader(id.data(), id.size()));
    s.setTo(as_text(to));
    s.setPayload(as_data(payload));
  });
}

void encoder::ack(out_buffer& out, std::string_view peer,
                  const std::vector<message_id>& ids) {
  write(out, [&](wire::ClientFrame::Builder f) {
    auto a = f.initAck();
    a.setPeer(as_text(peer));
    a.setState(wire::AckState::DELIVERED);
    auto list = a.initIds(static_cast<unsigned>(ids.size()));
    for (unsigned i = 0; i < ids.size(); ++i)
      list.set(i, capnp::Data::Reader(ids[i].data(), ids[i].size()));
  });
}

void encoder::ack_receipts(out_buffer& out, const std::vector<uint64_t>& seqs) {
  write(out, [&](wire::ClientFrame::Builder f) {
    auto list = f.initAckReceipts().initSeqs(static_cast<unsigned>(seqs.size()));
    for (unsigned i = 0; i < seqs.size(); ++i)
      list.set(i, seqs[i]);
  });
}

void encoder::heartbeat(out_buffer& out) {
  write(out, [](wire::ClientFrame::Builder f) { f.setHeartbeat(); });
}

} // namespace parley::bench
