#include "actors/session/outgoing.hpp"

#include "schema/bytes.hpp"
#include "schema/frame.hpp"
#include "schema/hex.hpp"

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
  auto group = from_hex(item.group).value_or(std::string());
  write_frame(out, [&](wire::ServerFrame::Builder f) {
    if (item.what() == item_kind::message) {
      auto d = f.initDeliver();
      d.setSeq(item.seq);
      d.setFrom(as_text(item.peer));
      d.setId(as_data(item.id));
      d.setPayload(as_data(item.payload));
      d.setServerTime(item.time);
      d.setGroup(as_data(group));
    } else if (item.what() == item_kind::receipt) {
      auto r = f.initReceipt();
      r.setSeq(item.seq);
      r.setId(as_data(item.id));
      r.setPeer(as_text(item.peer));
      r.setState(static_cast<wire::ReceiptState>(item.state));
      r.setTime(item.time);
      r.setGroup(as_data(group));
      auto more = r.initMoreIds(static_cast<unsigned>(item.more_ids.size()));
      for (unsigned i = 0; i < item.more_ids.size(); ++i)
        more.set(i, as_data(item.more_ids[i]));
    } else {
      auto n = f.initGroupNotice();
      n.setSeq(item.seq);
      n.setGroup(as_data(group));
      n.setName(as_text(item.name));
      n.setEpoch(item.epoch);
      n.setBy(as_text(item.peer));
      n.setAction(static_cast<wire::GroupAction>(item.state));
      auto members = n.initMembers(static_cast<unsigned>(item.members.size()));
      for (unsigned i = 0; i < item.members.size(); ++i)
        members.set(i, as_text(item.members[i]));
      n.setTime(item.time);
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

void group(buffer& out, const group_state& g) {
  auto raw = from_hex(g.group).value_or(std::string());
  write_frame(out, [&](wire::ServerFrame::Builder f) {
    auto x = f.initGroup();
    x.setGroup(as_data(raw));
    x.setName(as_text(g.name));
    x.setEpoch(g.epoch);
    auto members = x.initMembers(static_cast<unsigned>(g.members.size()));
    for (unsigned i = 0; i < g.members.size(); ++i) {
      members[i].setUser(as_text(g.members[i].user));
      members[i].setAdmin(g.members[i].admin);
    }
  });
}

void group_sent(buffer& out, std::string_view id, std::string_view group_raw,
                int64_t time) {
  write_frame(out, [&](wire::ServerFrame::Builder f) {
    auto r = f.initReceipt();
    r.setId(as_data(id));
    r.setState(wire::ReceiptState::SENT);
    r.setTime(time);
    r.setGroup(as_data(group_raw));
  });
}

void message_info(buffer& out, std::string_view group_raw, std::string_view id,
                  const parley::message_info& info) {
  write_frame(out, [&](wire::ServerFrame::Builder f) {
    auto x = f.initMessageInfo();
    x.setGroup(as_data(group_raw));
    x.setId(as_data(id));
    x.setTime(info.time);
    auto list = x.initRecipients(static_cast<unsigned>(info.recipients.size()));
    for (unsigned i = 0; i < info.recipients.size(); ++i) {
      auto& r = info.recipients[i];
      list[i].setUser(as_text(r.user));
      list[i].setState(static_cast<wire::ReceiptState>(r.state));
      list[i].setTime(r.time);
    }
  });
}

void call(buffer& out, const call_signal& s) {
  write_frame(out, [&](wire::ServerFrame::Builder f) {
    auto x = f.initCall();
    x.setCall(as_data(s.call));
    x.setPeer(as_text(s.from));
    x.setKind(s.what());
    x.setPayload(as_data(s.payload));
  });
}

void turn(buffer& out, const turn_credentials& c) {
  write_frame(out, [&](wire::ServerFrame::Builder f) {
    auto x = f.initTurnCredentials();
    x.setUsername(as_text(c.username));
    x.setPassword(as_text(c.password));
    x.setTtlSeconds(c.ttl_seconds);
    auto uris = x.initUris(static_cast<unsigned>(c.uris.size()));
    for (unsigned i = 0; i < c.uris.size(); ++i)
      uris.set(i, as_text(c.uris[i]));
  });
}

} // namespace parley::outgoing
