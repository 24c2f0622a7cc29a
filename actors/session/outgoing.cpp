#include "actors/session/outgoing.hpp"

#include "schema/bytes.hpp"
#include "schema/frame.hpp"

#include <capnp/message.h>

#include <array>

namespace parley::outgoing {

namespace {

// All sessions of a node run on the middleman's one thread: one zeroed first
// segment per thread, large enough for any frame, spares a malloc per frame.
constexpr size_t scratch_words = 9 * 1024;
thread_local std::array<capnp::word, scratch_words> scratch{};
thread_local bool scratch_in_use = false;

template <class F>
void write_frame(buffer& out, F fill) {
  if (scratch_in_use) {  // never expected: encoders do not nest
    capnp::MallocMessageBuilder message;
    fill(message.initRoot<wire::ServerFrame>());
    append_frame(message, out);
    return;
  }
  scratch_in_use = true;
  {
    capnp::MallocMessageBuilder message(kj::arrayPtr(scratch.data(), scratch.size()));
    fill(message.initRoot<wire::ServerFrame>());
    append_frame(message, out);
  }  // the builder zeroes what it used, ready for the next frame
  scratch_in_use = false;
}

} // namespace

void challenge(buffer& out, std::string_view nonce) {
  write_frame(out, [&](wire::ServerFrame::Builder f) {
    f.initChallenge().setNonce(as_data(nonce));
  });
}

void welcome(buffer& out, std::string_view user, int64_t server_time,
             uint32_t heartbeat_seconds, uint32_t max_payload,
             uint32_t max_pending_sends) {
  write_frame(out, [&](wire::ServerFrame::Builder f) {
    auto w = f.initWelcome();
    w.setUser(as_text(user));
    w.setServerTime(server_time);
    w.setHeartbeatSeconds(heartbeat_seconds);
    w.setMaxPayload(max_payload);
    w.setMaxPendingSends(max_pending_sends);
  });
}

void registered(buffer& out, std::string_view user) {
  write_frame(out, [&](wire::ServerFrame::Builder f) {
    f.initRegistered().setUser(as_text(user));
  });
}

void inbox_entry(buffer& out, const inbox_item& item) {
  write_frame(out, [&](wire::ServerFrame::Builder f) {
    if (item.what() == item_kind::message) {
      auto d = f.initDeliver();
      d.setSeq(item.seq);
      d.setFrom(as_text(item.peer));
      d.setId(as_data(item.id));
      d.setPayload(as_data(item.payload));
      d.setServerTime(item.time);
    } else {
      auto r = f.initReceipt();
      r.setSeq(item.seq);
      r.setId(as_data(item.id));
      r.setPeer(as_text(item.peer));
      r.setState(static_cast<wire::ReceiptState>(item.state));
      r.setTime(item.time);
    }
  });
}

void sent(buffer& out, std::string_view id, std::string_view peer, int64_t time) {
  write_frame(out, [&](wire::ServerFrame::Builder f) {
    auto r = f.initReceipt();
    r.setId(as_data(id));
    r.setPeer(as_text(peer));
    r.setState(wire::ReceiptState::SENT);
    r.setTime(time);
  });
}

void presence(buffer& out, const presence_info& info) {
  write_frame(out, [&](wire::ServerFrame::Builder f) {
    auto p = f.initPresence();
    p.setUser(info.user);
    p.setOnline(info.online);
    p.setLastSeen(info.last_seen);
  });
}

void error(buffer& out, wire::ErrorCode code, std::string_view message,
           std::string_view refers_to, uint32_t retry_after_ms) {
  write_frame(out, [&](wire::ServerFrame::Builder f) {
    auto e = f.initError();
    e.setCode(code);
    e.setMessage(as_text(message));
    e.setRefersTo(as_data(refers_to));
    e.setRetryAfterMs(retry_after_ms);
  });
}

void pong(buffer& out) {
  write_frame(out, [](wire::ServerFrame::Builder f) { f.setPong(); });
}

void prekeys(buffer& out, uint32_t remaining, bool low, bool has_signed_prekey) {
  write_frame(out, [&](wire::ServerFrame::Builder f) {
    auto x = low ? f.initPrekeysLow() : f.initKeysPublished();
    x.setOneTimePrekeys(remaining);
    x.setHasSignedPrekey(has_signed_prekey);
  });
}

void bundle(buffer& out, const prekey_bundle& b) {
  write_frame(out, [&](wire::ServerFrame::Builder f) {
    auto x = f.initBundle();
    x.setUser(as_text(b.user));
    x.setIdentityKey(as_data(b.identity_key));
    x.setSignedPrekey(as_data(b.signed_prekey));
    x.setOneTimePrekey(as_data(b.one_time_prekey));
  });
}

void media_token(buffer& out, wire::MediaAction action, std::string_view sha256,
                 std::string_view token, int64_t expires, std::string_view url) {
  write_frame(out, [&](wire::ServerFrame::Builder f) {
    auto m = f.initMediaToken();
    m.setAction(action);
    m.setSha256(as_data(sha256));
    m.setToken(as_text(token));
    m.setExpires(expires);
    m.setUrl(as_text(url));
  });
}

} // namespace parley::outgoing
