#include "tools/client/reconnecting_client.hpp"

#include "schema/errors.hpp"
#include "tools/client/message_id.hpp"

#include <algorithm>
#include <thread>

namespace parley::client {

// Order across reconnects: why pipelining is safe.
//
// The outbox is posted in order with up to `window` sends unanswered, not one at
// a time. Per sender->recipient order still holds because:
// 1. On one connection the node keeps order: a session reads frames in order
//    and hands each send to the recipient's store actor in that order (actor
//    messages between two actors keep their order), and the store numbers them
//    as they come. It never skips one and takes a later one: once it refuses a
//    send for a reason that may pass (its home unreachable, a rate, a full
//    inbox), it refuses the later ones too until that one comes again.
// 2. After a reconnect the client posts again from the oldest message without a
//    sent tick, in order. So every connection carries an ordered run of the
//    outbox, and each message is stored at its first arrival (later ones are
//    answered as retransmissions). If message k+1 arrived first on some
//    connection, k arrived before it on that same connection, unless k had its
//    tick already, i.e. was stored earlier still. So first arrivals keep the
//    outbox order, even when an old connection's frames trail in after a new
//    one's.
// 3. A send the node answers with a retryable error (unavailable, internal) may
//    or may not be stored; the client does not re-post it alone (it would go
//    behind later ones) but drops the link, and rule 2 applies.
// Stop-and-wait would give the same order with one round trip plus one fsync
// per message; the window keeps throughput without weakening the guarantee.

namespace {

using namespace std::chrono_literals;

/// The node refused the login for good.
bool login_refused_for_good(const failure& why) {
  if (why.what != failure::kind::server)
    return false;
  switch (why.code) {
    case wire::ErrorCode::UNKNOWN_USER:
    case wire::ErrorCode::BAD_SIGNATURE:
    case wire::ErrorCode::INVALID_NAME:
      return true;
    default:
      return false;
  }
}

/// Where a message to a group waits in the outbox: "#" and the group's hex id.
bool is_group_peer(const std::string& peer) {
  return !peer.empty() && peer[0] == '#';
}

/// The conversation a tick of ours belongs to.
std::string conversation_of(const receipt& r) {
  return r.group.empty() ? r.peer : "#" + to_hex(r.group);
}

std::string be64(uint64_t x) {
  std::string out;
  for (int shift = 56; shift >= 0; shift -= 8)
    out += static_cast<char>((x >> shift) & 0xFF);
  return out;
}

uint64_t from_be64(std::string_view bytes) {
  uint64_t x = 0;
  for (size_t i = 0; i < 8 && i < bytes.size(); ++i)
    x = (x << 8) | static_cast<unsigned char>(bytes[i]);
  return x;
}

tick_state tick_of(wire::ReceiptState state) {
  switch (state) {
    case wire::ReceiptState::SENT:
      return tick_state::sent;
    case wire::ReceiptState::DELIVERED:
      return tick_state::delivered;
    case wire::ReceiptState::READ:
      return tick_state::read;
  }
  return tick_state::sent;
}

} // namespace

reconnecting_client::reconnecting_client(device_store& store, options server,
                                         std::string user, identity id,
                                         reconnect_options opts)
  : store_(store),
    conn_(std::move(server)),
    user_(std::move(user)),
    id_(std::move(id)),
    opts_(opts),
    backoff_(opts.initial_backoff, opts.max_backoff, opts.seed),
    next_attempt_(clock::now()) {
  // nop
}

reconnecting_client::~reconnecting_client() {
  logout();
}

// -- the caller's requests --------------------------------------------------------

outcome<stored_message> reconnecting_client::send(const std::string& to,
                                                  const std::string& body) {
  auto m = store_.enqueue(to, body);
  if (!m)
    return m;
  if (connected())
    post_more(pending_);
  return m;
}

outcome<stored_message> reconnecting_client::send_group(const std::string& group,
                                                        const std::string& body) {
  return send("#" + to_hex(group), body);
}

outcome<done> reconnecting_client::call_signal(const std::string& call,
                                               const std::string& peer,
                                               wire::CallSignalKind kind,
                                               const std::string& data) {
  if (!connected())
    return failure{failure::kind::transport, wire::ErrorCode::UNAVAILABLE,
                   "not connected"};
  auto payload = opts_.codec != nullptr
                   ? opts_.codec->seal_call(conn_, peer, call, kind, data)
                   : outcome<std::string>{data};
  if (!payload)
    return payload.error();
  return conn_.call(call, peer, kind, *payload);
}

outcome<group_info> reconnecting_client::refresh_group(const std::string& group) {
  if (!connected())
    return failure{failure::kind::transport, wire::ErrorCode::UNAVAILABLE,
                   "not connected"};
  auto info = conn_.query_group(group);
  if (!info)
    return info;
  if (auto ok = store_.put_group(*info); !ok)
    return ok.error();
  return info;
}

outcome<done> reconnecting_client::remember_group(const group_info& info) {
  return store_.put_group(info);
}

outcome<group_info> reconnecting_client::group_for_sending(const std::string& group_hex) {
  auto cached = store_.group(group_hex);
  if (!cached)
    return cached.error();
  if (*cached && !(*cached)->stale)
    return (*cached)->info;
  auto raw = from_hex(group_hex);
  if (!raw)
    return failure{failure::kind::local, wire::ErrorCode::INTERNAL,
                   "not a group id: " + group_hex};
  return refresh_group(*raw);
}

outcome<done> reconnecting_client::mark_read(const std::string& peer,
                                             const std::vector<std::string>& ids) {
  auto changed = store_.mark_read(peer, ids);
  if (!changed)
    return changed.error();
  if (connected() && !changed->empty())
    send_reads(peer, *changed);
  return done{};
}

void reconnecting_client::watch(const std::vector<std::string>& users) {
  for (auto& u : users)
    if (std::find(watched_.begin(), watched_.end(), u) == watched_.end())
      watched_.push_back(u);
  if (connected() && !conn_.watch(users))
    lose_link(failure{failure::kind::transport, wire::ErrorCode::INTERNAL,
                      "write failed"},
              pending_);
}

std::chrono::milliseconds reconnecting_client::until_next_attempt() const {
  if (connected())
    return 0ms;
  auto now = clock::now();
  if (now >= next_attempt_)
    return 0ms;
  return std::chrono::ceil<std::chrono::milliseconds>(next_attempt_ - now);
}

void reconnecting_client::disconnect(const std::string& why) {
  lose_link(failure{failure::kind::transport, wire::ErrorCode::INTERNAL, why}, pending_);
}

void reconnecting_client::logout() {
  if (connected())
    conn_.logout();
  conn_.close();
  logged_in_ = false;
  in_flight_.clear();
  reads_sent_.clear();
  next_attempt_ = clock::now();
}

// -- the work ---------------------------------------------------------------------

outcome<std::vector<update>> reconnecting_client::step(std::chrono::milliseconds wait) {
  std::vector<update> out = std::move(pending_);
  pending_.clear();
  auto deadline = clock::now() + wait;
  if (logged_in_ && !conn_.is_open())
    lose_link(failure{failure::kind::transport, wire::ErrorCode::INTERNAL,
                      "the connection closed"},
              out);
  if (!connected()) {
    if (clock::now() < next_attempt_) {
      if (!out.empty())
        return out;
      std::this_thread::sleep_until(std::min(deadline, next_attempt_));
      if (clock::now() < next_attempt_)
        return out;
    }
    if (auto ok = open_link(out); !ok)
      return ok.error();
    return out;
  }
  // Messages another process of this user queued go out too.
  post_more(out);
  if (!connected())
    return out;
  for (;;) {
    if (!check_liveness(out))
      return out;
    auto now = clock::now();
    auto slice = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::max<clock::duration>(0ms, deadline - now));
    // Wake up in time to probe or give up on a silent link.
    slice = std::min(slice, std::max<std::chrono::milliseconds>(probe_interval() / 4, 10ms));
    auto e = conn_.next_event(slice);
    if (!e) {
      lose_link(e.error(), out);
      return out;
    }
    if (*e) {
      std::vector<event> batch;
      batch.push_back(std::move(**e));
      // Whatever else is here already joins the same transaction.
      while (conn_.has_queued() && batch.size() < 1024) {
        auto more = conn_.next_event(0ms);
        if (!more || !*more)
          break;
        batch.push_back(std::move(**more));
      }
      if (auto ok = process(batch, out); !ok)
        return ok.error();
      if (!connected())
        return out;
      post_more(out);
    }
    confirm_reads();
    if (!out.empty() || clock::now() >= deadline)
      return out;
  }
}

outcome<done> reconnecting_client::open_link(std::vector<update>& out) {
  logged_in_ = false;
  if (auto ok = conn_.connect(); !ok) {
    lose_link(ok.error(), out);
    return done{};
  }
  auto welcome = conn_.login(user_, id_);
  if (!welcome) {
    auto why = welcome.error();
    lose_link(why, out);
    if (login_refused_for_good(why))
      return why;
    return done{};
  }
  if (opts_.codec != nullptr) {
    if (auto ok = opts_.codec->on_login(conn_); !ok) {
      lose_link(ok.error(), out);
      return done{};
    }
  }
  logged_in_ = true;
  backoff_.reset();
  window_ = std::max<size_t>(1, opts_.window);
  if (welcome->max_pending_sends > 0)
    window_ = std::min<size_t>(window_, welcome->max_pending_sends);
  in_flight_.clear();
  last_posted_ = 0;
  reads_sent_.clear();
  last_probe_ = clock::now();
  out.push_back(link_up{*welcome});
  if (opts_.receive) {
    // Read acknowledgements the last link may have lost (the node ignores
    // repeats: a message read once stays read).
    auto reads = store_.unconfirmed_reads();
    if (!reads) {
      lose_link(reads.error(), out);
      return reads.error();
    }
    std::vector<std::pair<std::string, std::vector<std::string>>> by_peer;
    for (auto& m : *reads) {
      if (by_peer.empty() || by_peer.back().first != m.peer)
        by_peer.emplace_back(m.peer, std::vector<std::string>{});
      by_peer.back().second.push_back(m.id);
    }
    for (auto& [peer, ids] : by_peer)
      if (connected())
        send_reads(peer, ids);
  }
  if (connected() && !watched_.empty() && !conn_.watch(watched_))
    lose_link(failure{failure::kind::transport, wire::ErrorCode::INTERNAL,
                      "write failed"},
              out);
  post_more(out);
  return done{};
}

outcome<done> reconnecting_client::process(std::vector<event>& batch,
                                           std::vector<update>& out) {
  // Acknowledgements wait for the commit: the node deletes what we acknowledge.
  std::vector<std::pair<std::string, std::vector<std::string>>> delivered;
  std::vector<uint64_t> receipt_seqs;
  std::vector<update> reported;
  std::optional<failure> drop;
  std::optional<uint32_t> replenish;
  auto posted_as = [this](const std::string& id) {
    return std::find_if(in_flight_.begin(), in_flight_.end(),
                        [&](const posted& p) { return p.id == id; });
  };
  auto recorded = store_.transaction([&]() -> outcome<done> {
    for (auto& e : batch) {
      if (auto m = std::get_if<message>(&e)) {
        if (!opts_.receive)
          continue;  // stays on the node for the next session that receives
        bool for_the_device = false;
        if (opts_.codec != nullptr) {
          // Open it once: a retransmission would not decrypt a second time.
          auto seen = store_.was_received(m->from, m->id);
          if (!seen)
            return seen.error();
          if (!*seen) {
            outcome<std::optional<std::string>> body =
              m->group.empty()
                ? opts_.codec->open(m->from, m->payload)
                : [&]() -> outcome<std::optional<std::string>> {
                    auto b = opts_.codec->open_group(m->group, m->from, m->payload);
                    if (!b)
                      return b.error();
                    return std::optional<std::string>{std::move(*b)};
                  }();
            if (!body) {
              // Kept and acknowledged all the same (it would only come again),
              // marked so that nobody takes it for what was sent.
              reported.emplace_back(server_error{wire::ErrorCode::INTERNAL,
                                                 "could not open a message from "
                                                   + m->from + ": "
                                                   + body.error().message,
                                                 m->id, 0});
              m->payload = "[could not decrypt: " + body.error().message + "]";
            } else if (!*body) {
              for_the_device = true;  // a sender key, taken in by the codec
            } else {
              m->payload = std::move(**body);
            }
          }
        }
        if (for_the_device) {
          if (auto ok = store_.mark_received(m->from, m->id); !ok)
            return ok;
          if (delivered.empty() || delivered.back().first != m->from)
            delivered.emplace_back(m->from, std::vector<std::string>{});
          delivered.back().second.push_back(m->id);
          continue;
        }
        auto fresh = store_.record_incoming(*m);
        if (!fresh)
          return fresh.error();
        // A duplicate is acknowledged again: our last acknowledgement got lost.
        if (delivered.empty() || delivered.back().first != m->from)
          delivered.emplace_back(m->from, std::vector<std::string>{});
        delivered.back().second.push_back(m->id);
        if (*fresh)
          reported.emplace_back(std::move(*m));
      } else if (auto r = std::get_if<receipt>(&e)) {
        if (r->seq == 0) {
          // The answer to a send: its sent tick.
          auto tick = store_.record_tick(conversation_of(*r), r->id, tick_state::sent,
                                         r->time);
          if (!tick)
            return tick.error();
          if (auto i = posted_as(r->id); i != in_flight_.end())
            in_flight_.erase(i);
          if (*tick != tick_result::unchanged)
            reported.emplace_back(std::move(*r));
        } else {
          if (!opts_.receive)
            continue;
          auto tick = store_.record_tick(conversation_of(*r), r->id, tick_of(r->state), 0);
          if (!tick)
            return tick.error();
          receipt_seqs.push_back(r->seq);
          if (*tick == tick_result::unknown && opts_.codec != nullptr) {
            auto internal = opts_.codec->consumes(*r);
            if (!internal)
              return internal.error();
            if (*internal)
              continue;
          }
          if (*tick != tick_result::unchanged)
            reported.emplace_back(std::move(*r));
        }
      } else if (auto p = std::get_if<presence>(&e)) {
        reported.emplace_back(std::move(*p));
      } else if (auto low = std::get_if<prekeys_low>(&e)) {
        replenish = low->remaining;
      } else if (auto n = std::get_if<group_notice>(&e)) {
        if (!opts_.receive)
          continue;
        // The device's copy is out of date; a member who is out forgets it.
        auto hex = to_hex(n->group);
        bool me = std::find(n->members.begin(), n->members.end(), user_) != n->members.end();
        bool out = me && (n->action == wire::GroupAction::REMOVED
                          || n->action == wire::GroupAction::LEFT);
        if (auto ok = out ? store_.forget_group(hex) : store_.mark_group_stale(hex); !ok)
          return ok;
        receipt_seqs.push_back(n->seq);
        reported.emplace_back(std::move(*n));
      } else if (auto c = std::get_if<call_event>(&e)) {
        if (c->kind != wire::CallSignalKind::TIMEOUT && opts_.codec != nullptr) {
          auto data = opts_.codec->open_call(*c);
          if (!data) {
            reported.emplace_back(server_error{wire::ErrorCode::INTERNAL,
                                               "could not open a call signal from "
                                                 + c->peer + ": " + data.error().message,
                                               c->call, 0});
            continue;
          }
          c->payload = std::move(*data);
        }
        reported.emplace_back(std::move(*c));
      } else if (auto err = std::get_if<server_error>(&e)) {
        auto i = err->refers_to.empty() ? in_flight_.end() : posted_as(err->refers_to);
        if (i == in_flight_.end()) {
          reported.emplace_back(std::move(*err));
        } else if (send_refused_for_good(err->code)) {
          if (auto ok = store_.mark_failed(i->peer, i->id, err->message); !ok)
            return ok;
          in_flight_.erase(i);
          reported.emplace_back(std::move(*err));
        } else if (err->code == wire::ErrorCode::STALE_GROUP) {
          // Sealed for a group that changed since: nothing of it was stored.
          // Seal it again for the group as it is now, in order, on a new link.
          if (auto ok = store_.mark_group_stale(i->peer.substr(1)); !ok)
            return ok;
          if (auto ok = store_.clear_wire(i->seq); !ok)
            return ok;
          drop = failure{failure::kind::server, err->code, err->message};
        } else {
          // Maybe stored, maybe not: re-posting it alone could put it behind
          // later ones. A new link re-posts everything from it, in order.
          drop = failure{failure::kind::server, err->code, err->message};
        }
      }
    }
    return done{};
  });
  if (!recorded) {
    // Nothing of the batch is acknowledged: the node sends it again next time.
    lose_link(recorded.error(), out);
    return recorded.error();
  }
  auto write_failed = [&](const failure& why) {
    out.insert(out.end(), std::make_move_iterator(reported.begin()),
               std::make_move_iterator(reported.end()));
    lose_link(why, out);
    return done{};
  };
  for (auto& [peer, ids] : delivered)
    if (auto ok = conn_.ack(peer, ids, wire::AckState::DELIVERED); !ok)
      return write_failed(ok.error());
  if (!receipt_seqs.empty())
    if (auto ok = conn_.ack_receipts(receipt_seqs); !ok)
      return write_failed(ok.error());
  out.insert(out.end(), std::make_move_iterator(reported.begin()),
             std::make_move_iterator(reported.end()));
  if (replenish && opts_.codec != nullptr)
    if (auto ok = opts_.codec->on_prekeys_low(conn_, *replenish); !ok)
      return write_failed(ok.error());
  if (drop)
    lose_link(*drop, out);
  return done{};
}

void reconnecting_client::post_more(std::vector<update>& out) {
  while (connected() && in_flight_.size() < window_) {
    auto next = store_.outbox(last_posted_, window_ - in_flight_.size());
    if (!next) {
      lose_link(next.error(), out);
      return;
    }
    if (next->empty())
      return;
    for (auto& m : *next) {
      auto payload = wire_payload(m);
      if (!payload) {
        if (payload.error().what == failure::kind::server
            && send_refused_for_good(payload.error().code)) {
          // No keys to seal it with, ever (unknown user): it fails, not waits.
          if (auto ok = store_.mark_failed(m.peer, m.id, payload.error().message); !ok)
            lose_link(ok.error(), out);
          else
            out.emplace_back(server_error{payload.error().code, payload.error().message,
                                          m.id, 0});
          last_posted_ = m.seq;
          continue;
        }
        lose_link(payload.error(), out);
        return;
      }
      auto posted_ok = is_group_peer(m.peer)
                         ? conn_.post_group(from_hex(m.group).value_or(std::string()),
                                            m.id, from_be64(*payload), payload->substr(8))
                         : conn_.post(m.peer, m.id, *payload);
      if (!posted_ok) {
        lose_link(posted_ok.error(), out);
        return;
      }
      in_flight_.push_back(posted{m.seq, m.peer, m.id});
      last_posted_ = m.seq;
    }
  }
}

outcome<std::string> reconnecting_client::wire_payload(const stored_message& m) {
  bool group = is_group_peer(m.peer);
  if (opts_.codec == nullptr && !group)
    return m.body;
  auto sealed = store_.wire_of(m.seq);
  if (!sealed)
    return sealed.error();
  if (*sealed)
    return std::move(**sealed);
  outcome<std::string> payload = std::string();
  if (group) {
    auto info = group_for_sending(m.group);
    if (!info)
      return info.error();
    auto body = opts_.codec != nullptr ? opts_.codec->seal_group(conn_, *info, m.body)
                                       : outcome<std::string>{m.body};
    if (!body)
      return body.error();
    payload = be64(info->epoch) + *body;
  } else {
    payload = opts_.codec->seal(conn_, m.peer, m.body);
  }
  if (!payload)
    return payload.error();
  if (auto ok = store_.set_wire(m.seq, *payload); !ok)
    return ok.error();
  return payload;
}

// -- liveness ---------------------------------------------------------------------

std::chrono::milliseconds reconnecting_client::probe_interval() const {
  if (opts_.heartbeat.count() > 0)
    return opts_.heartbeat;
  auto node = conn_.heartbeat_interval();
  return node.count() > 0 ? node : std::chrono::milliseconds{5000};
}

bool reconnecting_client::check_liveness(std::vector<update>& out) {
  auto interval = probe_interval();
  auto now = clock::now();
  auto silence = now - conn_.last_received();
  if (silence >= interval * std::max(1u, opts_.missed_pongs)) {
    lose_link(failure{failure::kind::timeout, wire::ErrorCode::INTERNAL,
                      "nothing from the node for "
                        + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           silence)
                                           .count())
                        + " ms; the link is dead"},
              out);
    return false;
  }
  // Silent for an interval: ask for a pong, once per interval.
  if (silence >= interval && now - last_probe_ >= interval) {
    last_probe_ = now;
    if (auto ok = conn_.heartbeat(); !ok) {
      lose_link(ok.error(), out);
      return false;
    }
  }
  return true;
}

void reconnecting_client::send_reads(const std::string& peer,
                                     const std::vector<std::string>& ids) {
  // The protocol does not answer acks; a pong that comes after them shows the
  // node's session has read them.
  auto ok = conn_.ack(peer, ids, wire::AckState::READ);
  if (ok)
    ok = conn_.heartbeat();
  if (!ok) {
    lose_link(ok.error(), pending_);
    return;
  }
  reads_sent_.push_back(reads_sent{conn_.heartbeats_sent(), peer, ids});
}

void reconnecting_client::confirm_reads() {
  while (!reads_sent_.empty() && reads_sent_.front().heartbeat <= conn_.pongs_received()) {
    auto& r = reads_sent_.front();
    // Failing here only means they are sent once more after a reconnect.
    store_.confirm_reads(r.peer, r.ids);
    reads_sent_.pop_front();
  }
}

void reconnecting_client::lose_link(failure why, std::vector<update>& out) {
  conn_.close();
  logged_in_ = false;
  in_flight_.clear();
  reads_sent_.clear();
  auto delay = backoff_.next();
  next_attempt_ = clock::now() + delay;
  out.push_back(link_down{std::move(why), delay});
}

} // namespace parley::client
