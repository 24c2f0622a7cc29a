#include "actors/session/session.hpp"

#include "actors/auth/throttle.hpp"
#include "actors/call/call_messages.hpp"
#include "actors/clock.hpp"
#include "actors/group/group_messages.hpp"
#include "actors/log.hpp"
#include "actors/metrics.hpp"
#include "actors/messages.hpp"
#include "actors/session/outgoing.hpp"
#include "actors/session/requests.hpp"
#include "actors/session/session_ref.hpp"
#include "actors/session/token_bucket.hpp"
#include "schema/errors.hpp"
#include "schema/frame.hpp"
#include "schema/hex.hpp"
#include "schema/rules.hpp"

#include <caf/actor_storage.hpp>
#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <unordered_map>

namespace parley {

namespace {

using steady = std::chrono::steady_clock;

enum class phase : uint8_t {
  anonymous,   // connected, not logged in
  challenged,  // sent a challenge, waiting for the proof
  verifying,   // checking the proof
  logged_in,
  closing,
};

} // namespace

class session {
public:
  session(session_set& set, uint64_t id, caf::io::connection_handle hdl)
    : set_(&set), hdl_(hdl), id_(id) {
    // nop
  }

  // Every actor this session registered with learns here that it ended,
  // whatever ended it; a hub that stops takes its sessions along, which its
  // monitors tell them.
  ~session() {
    if (set_->stopping_)
      return;
    auto me = ref();
    if (registry_)
      caf::anon_send(registry_, session_ended_atom::value, user_, me);
    if (told_)
      for (auto& actor : *told_)
        caf::anon_send(actor, session_ended_atom::value, me);
  }

  session(const session&) = delete;
  session& operator=(const session&) = delete;

  void start() {
    reader_.emplace(settings().max_frame);
    connected_at_ = now_ms();
    auto now = steady::now();
    last_rx_ = now;
    message_rate_ = token_bucket{settings().rate_messages, settings().rate_messages * 2, now};
    byte_rate_ = token_bucket{settings().rate_bytes, settings().rate_bytes * 2, now};
    self()->configure_read(hdl_, caf::io::receive_policy::at_most(settings().read_chunk));
    set_->timers_.schedule(id_, now + settings().login_timeout,
                           session_timers::kind::deadline);
  }

  uint64_t id() const noexcept {
    return id_;
  }

  bool closing() const noexcept {
    return phase_ == phase::closing;
  }

  // -- what the hub hands it ---------------------------------------------------------

  void deliver(const inbox_items& items) {
    auto now = now_ms();
    for (auto& item : items) {
      outgoing::inbox_entry(out(), item);
      if (item.what() == item_kind::message) {
        bump(services().metrics->messages_out);
        services().metrics->delivery_latency.observe(
          static_cast<double>(std::max<int64_t>(0, now - item.time)) / 1000.0);
      }
    }
    flush();
  }

  void on_transferred(const caf::io::data_transferred_msg& msg) {
    if (msg.remaining == 0 && caf_writing_) {
      caf_writing_ = false;
      self()->ack_writes(hdl_, false);
    }
  }

  void on_closed() {
    phase_ = phase::closing;
  }

  void prekeys_low(uint32_t remaining) {
    outgoing::prekeys(out(), remaining, true, true);
    flush();
  }

  void presence(const presence_info& info) {
    outgoing::presence(out(), info);
    flush();
  }

  void call(const call_signal& signal) {
    if (phase_ != phase::logged_in)
      return;
    outgoing::call(out(), signal);
    flush();
  }

  void kick(uint8_t code) {
    close(static_cast<wire::ErrorCode>(code), "logged in on another connection");
  }

  void stop() {
    close(wire::ErrorCode::SHUTTING_DOWN, "the node is stopping; reconnect");
  }

  void on_deadline() {
    if (phase_ != phase::logged_in && phase_ != phase::closing)
      close(wire::ErrorCode::LOGIN_TIMEOUT, "no login in time");
  }

  void on_routes() {
    if (phase_ == phase::logged_in && !own_home())
      close(wire::ErrorCode::UNAVAILABLE,
            "lost the link to this user's home node; reconnect");
  }

  /// The send with `ticket` is stored since `time`: its sent tick.
  void on_sent(uint64_t ticket, int64_t time) {
    auto send = answered(ticket);
    if (!send)
      return;  // given up on already; the client sends it again
    if (send->group)
      outgoing::group_sent(out(), send->id, from_hex(send->routed_by).value_or(""), time);
    else
      outgoing::sent(out(), send->id, send->routed_by, time);
    flush();
  }

  /// The send with `ticket` was refused, or lost.
  void on_refused(uint64_t ticket, const caf::error& err) {
    if (auto send = answered(ticket))
      send_failed(err, send->id);
  }

  /// The hub's flush_atom: what this turn's messages queued goes out.
  void write_scheduled() {
    write_scheduled_ = false;
    write_queued();
  }

  std::string stats_json() {
    // Built by hand: sessions are many and this is all they report.
    return "{\"user\":\"" + user_ + "\",\"node\":\"" + routes()->self()
           + "\",\"address\":\"" + peer_address() + "\",\"since\":"
           + std::to_string(connected_at_) + ",\"loggedIn\":"
           + (phase_ == phase::logged_in ? "true" : "false") + "}";
  }

  // -- input -----------------------------------------------------------------------

  void on_data(const caf::io::new_data_msg& msg) {
    if (phase_ == phase::closing)
      return;
    last_rx_ = steady::now();
    reader_->feed(msg.buf.data(), msg.buf.size());
    while (auto frame = reader_->next()) {
      auto req = parse_request(*frame, request_limits{settings().max_payload});
      std::visit([this](auto& r) { handle(r); }, req);
      if (phase_ == phase::closing)
        return;
    }
    switch (reader_->error()) {
      case frame_error::none:
        break;
      case frame_error::too_large:
        close(wire::ErrorCode::FRAME_TOO_LARGE, "frame larger than the limit");
        return;
      case frame_error::malformed:
        close(wire::ErrorCode::MALFORMED_FRAME, "invalid segment table");
        return;
    }
    // Now, not later: CAF flushes the buffer itself after each new_data_msg,
    // and frames it took would go out behind ones written here afterwards.
    write_queued();
  }

  /// The liveness check.
  void check_heartbeats() {
    if (phase_ != phase::logged_in)
      return;
    give_up_on_old_sends();
    release_empty_books();
    auto silence = steady::now() - last_rx_;
    if (silence > settings().heartbeat_interval * settings().missed_heartbeats) {
      close(wire::ErrorCode::HEARTBEAT_TIMEOUT, "missed heartbeats");
      return;
    }
    next_tick();
  }

private:
  /// A handler for the answer to a request of this session's, with arguments
  /// `Ts`: it runs `f(session, args...)` if the session is still there (it
  /// may have closed while the answer was on its way).
  template <class... Ts, class F>
  auto answer(F f) {
    return [set = set_, id = id_, f = std::move(f)](Ts... xs) mutable {
      set->visit(id, [&](session& s) { f(s, std::forward<Ts>(xs)...); });
    };
  }

  /// An answer's handler for errors: says so, about `refers_to`.
  auto failure(std::string refers_to) {
    return answer<const caf::error&>(
      [refers_to = std::move(refers_to)](session& s, const caf::error& err) {
        s.request_failed(err, refers_to);
      });
  }

  session_ref ref() const {
    return session_ref{caf::actor_cast<caf::actor>(self()), id_};
  }

  /// `actor` hears (session_ended_atom, ref) when this session ends.
  void tell_at_end(const caf::actor& actor) {
    if (!told_)
      told_ = std::make_unique<std::vector<caf::actor>>();
    if (std::find(told_->begin(), told_->end(), actor) == told_->end())
      told_->push_back(actor);
  }

  /// A send the store has not answered yet.
  struct unanswered_send {
    std::string id;
    std::string routed_by;  // the recipient, or the group (hex)
    std::string member;     // its home
    steady::time_point since;
    bool group = false;     // a group send
  };

  // -- requests --------------------------------------------------------------------

  void handle(bad_request& r) {
    if (r.close)
      return close(r.code, r.message);
    error(r.code, r.message, r.refers_to);
  }

  bool require_login() {
    if (phase_ == phase::logged_in)
      return true;
    error(wire::ErrorCode::NOT_LOGGED_IN, "log in first");
    return false;
  }

  // -- registration and login ------------------------------------------------------

  void handle(register_request& r) {
    if (phase_ == phase::logged_in)
      return error(wire::ErrorCode::ALREADY_LOGGED_IN, "already logged in");
    auto home = home_of(r.user);
    if (!home)
      return;
    self()->request(home->actors.store, caf::infinite, register_atom::value,
                    r.user, std::move(r.identity_key))
      .then(answer<caf::ok_atom>([user = r.user](session& s, caf::ok_atom) {
              outgoing::registered(s.out(), user);
              s.flush();
            }),
            failure({}));
  }

  void handle(login_request& r) {
    if (phase_ == phase::logged_in)
      return error(wire::ErrorCode::ALREADY_LOGGED_IN, "already logged in");
    if (phase_ != phase::anonymous)
      return error(wire::ErrorCode::UNEXPECTED, "a login is under way");
    auto home = home_of(r.user);
    if (!home)
      return;
    phase_ = phase::challenged;
    challenge_.reset();
    // The throttle hands a login it lets through to the store, which answers
    // with the user's identity key; then a fresh nonce goes out to be signed.
    self()->request(services().throttle, caf::infinite, login_atom::value, r.user,
                    peer_address(), home->actors.store)
      .then(answer<std::string&>([user = r.user](session& s, std::string& key) {
              s.challenge_user(user, std::move(key));
            }),
            answer<const caf::error&>([](session& s, const caf::error& err) {
              s.login_refused(err);
            }));
  }

  /// The store knows `user`: a fresh nonce goes out to be signed with `key`.
  void challenge_user(const std::string& user, std::string key) {
    if (phase_ != phase::challenged)
      return;
    user_ = user;
    challenge_ = std::make_unique<challenge>();
    challenge_->identity_key = std::move(key);
    challenge_->nonce.resize(nonce_bytes);
    set_->nonces_.fill(reinterpret_cast<unsigned char*>(challenge_->nonce.data()),
                       challenge_->nonce.size());
    outgoing::challenge(out(), challenge_->nonce);
    flush();
  }

  void login_refused(const caf::error& err) {
    if (phase_ == phase::challenged)
      phase_ = phase::anonymous;
    if (auto wait_ms = retry_after_ms(err); wait_ms > 0) {
      error(wire::ErrorCode::RATE_LIMITED, "too many logins; wait", {}, wait_ms);
      return flush();
    }
    request_failed(err, {});
  }

  void handle(prove_request& r) {
    if (phase_ == phase::logged_in)
      return error(wire::ErrorCode::ALREADY_LOGGED_IN, "already logged in");
    if (phase_ != phase::challenged || !challenge_)
      return error(wire::ErrorCode::UNEXPECTED, "prove answers a challenge");
    // The verifier hands a proof that holds to the registry of the user's home,
    // so the home is fixed now; the registry makes this the user's one session.
    auto home = routes()->home(user_);
    if (!home) {
      phase_ = phase::anonymous;
      error(wire::ErrorCode::UNAVAILABLE,
            "the home node of " + user_ + " is unreachable; try again");
      return flush();
    }
    home_name_ = routes()->home_name(user_);
    home_generation_ = home->generation;
    phase_ = phase::verifying;
    // From now on the registry may hold this session: it hears when it ends.
    registry_ = home->actors.registry;
    auto me = ref();
    self()->request(services().verifier, caf::infinite, verify_atom::value,
                    challenge_->identity_key, challenge_->nonce, std::move(r.signature),
                    registry_, user_, me)
      .then(
        [set = set_, me, registry = registry_, user = user_](caf::ok_atom) {
          if (!set->visit(me.id, [](session& s) { s.logged_in(); }))
            // It ended before the registry took it, which then forgets it.
            caf::anon_send(registry, session_ended_atom::value, user, me);
        },
        // The registry stays told when this session ends: a notice about a
        // session it does not hold changes nothing.
        answer<const caf::error&>([](session& s, const caf::error& err) {
          if (to_wire_code(err) == wire::ErrorCode::BAD_SIGNATURE) {
            s.self()->send(s.services().throttle, failed_atom::value, s.user_,
                           s.peer_address());
            return s.close(wire::ErrorCode::BAD_SIGNATURE, "login proof does not verify");
          }
          s.phase_ = phase::anonymous;
          s.request_failed(err, {});
        }));
  }

  /// The proof held and the registry took this session as the user's one.
  void logged_in() {
    if (phase_ == phase::closing)
      return;
    auto home = own_home();
    if (!home)
      return close(wire::ErrorCode::UNAVAILABLE,
                   "lost the link to this user's home node; reconnect");
    phase_ = phase::logged_in;
    // Most logged-in users are idle: keep none of the login's buffers.
    challenge_.reset();
    reader_->release_if_empty();
    log(log_level::info, "session: ", user_, " logged in");
    bump(services().metrics->logins);
    auto hb = std::chrono::duration_cast<std::chrono::seconds>(
      settings().heartbeat_interval);
    outgoing::welcome(out(), user_, now_ms(),
                      static_cast<uint32_t>(std::max<int64_t>(1, hb.count())),
                      static_cast<uint32_t>(settings().max_payload),
                      static_cast<uint32_t>(settings().max_pending_sends));
    flush();
    self()->send(home->actors.store, subscribe_atom::value, user_, ref());
    first_tick();
  }

  // -- messages ---------------------------------------------------------------------

  void handle(send_request& r) {
    if (!require_login())
      return;
    auto admitted = admit_send(r.id, r.payload.size(), r.to);
    if (!admitted)
      return;
    auto ticket = admitted->first;
    auto home = admitted->second;
    outgoing_message msg{user_, r.to, r.id, std::move(r.payload)};
    // Not a request: the store answers (sent_atom, session id, ticket, ...),
    // which the hub hands to on_sent or on_refused. A hub has thousands of
    // sends under way, and CAF 0.17 searches an actor's pending requests
    // linearly for every response (docs/BENCHMARKS.md, row 49). A send never
    // answered (its home is gone) is given up on at a liveness check.
    self()->send(home->actors.store, append_atom::value, std::move(msg), id_, ticket);
  }

  /// Checks a send of `bytes` (id `id`, to the home of `routed_by`: a user or,
  /// if `group`, a group) against the pending limit, the rate and the link rule
  /// below, and counts it as unanswered: its ticket and the home's link, or
  /// nothing after an error to the client.
  std::optional<std::pair<uint64_t, const member_link*>>
  admit_send(const std::string& id, size_t bytes, const std::string& routed_by,
             bool group = false) {
    auto& sends = books();
    if (sends.resend_from) {
      if (id != *sends.resend_from) {
        error(wire::ErrorCode::UNAVAILABLE,
              "an earlier send was refused; send again from that one", id);
        return std::nullopt;
      }
      sends.resend_from.reset();
    }
    // A client keeps at most maxPendingSends unanswered (Welcome says how many).
    // Refusing is the backpressure: CAF 0.17 loses a read resumed in the same
    // loop iteration it was halted in, so halting the socket could stall it.
    if (sends.unanswered.size() >= settings().max_pending_sends) {
      error(wire::ErrorCode::TOO_MANY_PENDING, "too many unanswered sends", id);
      return hold_sends_from(id);
    }
    if (!within_rate(bytes, id))
      return hold_sends_from(id);
    auto home = home_of(routed_by, id);
    if (!home)
      return hold_sends_from(id);
    // Order across nodes: CAF may lose what was sent over a link that broke,
    // but never a message in the middle of one link's stream. So a send goes
    // out only if every unanswered send to that node used the same link;
    // otherwise the client retries it once the old ones are answered.
    auto member = routes()->home_name(routed_by);
    auto& flight = sends.in_flight[member];
    if (flight.count > 0 && flight.generation != home->generation) {
      error(wire::ErrorCode::UNAVAILABLE, "the link to the home node changed; retry", id);
      return hold_sends_from(id);
    }
    flight.generation = home->generation;
    ++flight.count;
    auto ticket = next_ticket_++;
    sends.unanswered.emplace(ticket,
                             unanswered_send{id, routed_by, member, steady::now(), group});
    return std::make_pair(ticket, home);
  }

  /// After a send was refused for a reason that may pass, later sends on this
  /// connection are refused until the client sends that one again: taking them
  /// now would store them ahead of it, out of the order the client sent them.
  /// (Refusals for good leave the order alone: that message is never stored.)
  std::nullopt_t hold_sends_from(const std::string& id) {
    auto& sends = books();
    if (!sends.resend_from)
      sends.resend_from = id;
    return std::nullopt;
  }

  /// A send the home refused (or lost): says why, and holds later sends unless
  /// it was refused for good.
  void send_failed(const caf::error& err, const std::string& id) {
    request_failed(err, id);
    if (!send_refused_for_good(to_wire_code(err)))
      hold_sends_from(id);
  }

  /// Takes a send off the unanswered list; nothing if it was given up on.
  std::optional<unanswered_send> answered(uint64_t ticket) {
    if (!books_)
      return std::nullopt;
    auto i = books_->unanswered.find(ticket);
    if (i == books_->unanswered.end())
      return std::nullopt;
    auto send = std::move(i->second);
    books_->unanswered.erase(i);
    auto j = books_->in_flight.find(send.member);
    if (j != books_->in_flight.end() && --j->second.count == 0)
      books_->in_flight.erase(j);
    return send;
  }

  /// Most of the time, most sessions have no sends under way: their books go
  /// at a liveness check, not after each answer, which would cost a chatty
  /// session three more allocations a send (the books and their two tables).
  void release_empty_books() {
    if (books_ && books_->unanswered.empty() && !books_->resend_from)
      books_.reset();
  }

  /// Answers `unavailable` for sends the store has not answered in time (its
  /// node may be gone, and the request with it); a late answer is ignored.
  void give_up_on_old_sends() {
    if (!books_)
      return;
    auto limit = steady::now() - settings().request_timeout;
    std::vector<uint64_t> old;
    for (auto& [ticket, send] : books_->unanswered)
      if (send.since < limit)
        old.push_back(ticket);
    for (auto ticket : old)
      if (auto send = answered(ticket)) {
        error(wire::ErrorCode::UNAVAILABLE, "no answer in time; try again", send->id);
        hold_sends_from(send->id);
      }
    if (!old.empty())
      flush();
  }

  void handle(ack_request& r) {
    if (!require_login())
      return;
    if (auto home = own_home())
      self()->send(home->actors.store, ack_atom::value, user_, std::move(r.peer),
                   std::move(r.ids), static_cast<uint8_t>(r.state));
  }

  void handle(ack_receipts_request& r) {
    if (!require_login())
      return;
    if (auto home = own_home())
      self()->send(home->actors.store, ack_receipts_atom::value, user_,
                   std::move(r.seqs));
  }

  // -- presence ---------------------------------------------------------------------

  void handle(heartbeat_request&) {
    outgoing::pong(out());
    if (phase_ != phase::logged_in)
      return;
    // Presence needs a beat per interval, not every beat a client sends.
    auto now = steady::now();
    if (now - last_beat_forwarded_ >= settings().heartbeat_interval / 2) {
      last_beat_forwarded_ = now;
      if (auto home = own_home())
        set_->beats_.add(home->actors.presence, user_);
    }
  }

  void handle(last_seen_request& r) {
    if (!require_login())
      return;
    auto home = home_of(r.user);
    if (!home)
      return;
    self()->request(home->actors.presence, caf::infinite, last_seen_atom::value, r.user)
      .then(answer<const presence_info&>(
              [](session& s, const presence_info& info) { s.presence(info); }),
            failure({}));
  }

  void handle(watch_request& r) {
    if (!require_login())
      return;
    auto me = ref();
    for (auto& user : r.users) {
      if (watched_ >= settings().max_watched)
        return error(wire::ErrorCode::LIMIT_EXCEEDED, "too many watched users");
      auto home = home_of(user);
      if (!home)
        return;
      ++watched_;
      tell_at_end(home->actors.presence);
      self()->send(home->actors.presence, watch_atom::value, user, me);
    }
  }

  // -- key directory ----------------------------------------------------------------

  void handle(publish_keys_request& r) {
    if (!require_login())
      return;
    auto home = own_home();
    if (!home)
      return error(wire::ErrorCode::UNAVAILABLE, "this user's home node is unreachable");
    self()->request(home->actors.store, caf::infinite, publish_keys_atom::value, user_,
                    std::move(r.signed_prekey), std::move(r.one_time_prekeys))
      .then(answer<uint32_t, bool>([](session& s, uint32_t remaining, bool has_signed) {
              outgoing::prekeys(s.out(), remaining, false, has_signed);
              s.flush();
            }),
            failure({}));
  }

  void handle(fetch_bundle_request& r) {
    if (!require_login())
      return;
    auto home = home_of(r.user);
    if (!home)
      return;
    self()->request(home->actors.store, caf::infinite, fetch_bundle_atom::value, r.user)
      .then(answer<const prekey_bundle&>([](session& s, const prekey_bundle& b) {
              outgoing::bundle(s.out(), b);
              s.flush();
            }),
            failure({}));
  }

  // -- media ------------------------------------------------------------------------

  /// Signs a token for the media service: cheap, and nothing to store.
  void handle(media_token_request& r) {
    if (!require_login())
      return;
    if (!services().media_key)
      return error(wire::ErrorCode::UNSUPPORTED, "this node issues no media tokens",
                   r.sha256);
    if (!within_rate(0, r.sha256))
      return;
    media::token_claims claims;
    claims.what = r.action == wire::MediaAction::UPLOAD ? media::action::upload
                                                        : media::action::download;
    claims.user = user_;
    claims.sha256 = r.sha256;
    claims.size = r.size;
    claims.recipients = std::move(r.recipients);
    auto ttl = std::chrono::duration_cast<std::chrono::seconds>(settings().media_token_ttl);
    claims.expires = now_ms() / 1000 + std::max<int64_t>(1, ttl.count());
    outgoing::media_token(out(), r.action, r.sha256, services().media_key->sign(claims),
                          claims.expires * 1000, settings().media_url);
  }

  // -- groups -----------------------------------------------------------------------

  void handle(group_frame_request& r) {
    if (!require_login())
      return;
    if (!within_rate(0, r.group))
      return;
    auto group = to_hex(r.group);
    auto home = home_of(group, r.group);
    if (!home)
      return;
    group_request req{group, user_, static_cast<uint8_t>(r.op), std::move(r.name),
                      std::move(r.members)};
    self()->request(home->actors.groups, caf::infinite, group_atom::value, std::move(req))
      .then(answer<const group_state&>([](session& s, const group_state& g) {
              outgoing::group(s.out(), g);
              s.flush();
            }),
            failure(r.group));
  }

  void handle(group_send_request& r) {
    if (!require_login())
      return;
    auto group = to_hex(r.group);
    // Counted with the sends, and given up on like them.
    auto admitted = admit_send(r.id, r.payload.size(), group, true);
    if (!admitted)
      return;
    auto ticket = admitted->first;
    auto home = admitted->second;
    group_send msg{group, user_, r.id, r.epoch, std::move(r.payload)};
    // Answered like a send (see handle(send_request)), by the group's actor.
    self()->send(home->actors.groups, group_send_atom::value, std::move(msg), id_,
                 ticket);
  }

  void handle(message_info_request& r) {
    if (!require_login())
      return;
    auto group = to_hex(r.group);
    auto home = home_of(group, r.id);
    if (!home)
      return;
    self()->request(home->actors.store, caf::infinite, message_info_atom::value, group,
                    user_, r.id)
      .then(answer<const message_info&>(
              [raw = r.group, id = r.id](session& s, const message_info& info) {
                outgoing::message_info(s.out(), raw, id, info);
                s.flush();
              }),
            failure(r.id));
  }

  // -- calls ------------------------------------------------------------------------

  void handle(call_request& r) {
    if (!require_login())
      return;
    if (r.peer == user_)
      return error(wire::ErrorCode::CALL_INVALID, "a call needs another party", r.call);
    if (!within_rate(r.payload.size(), r.call))
      return;
    auto home = home_of(to_hex(r.call), r.call);
    if (!home)
      return;
    call_signal signal{r.call, user_, std::move(r.peer), r.kind, std::move(r.payload)};
    tell_at_end(home->actors.calls);
    self()->request(home->actors.calls, caf::infinite, call_atom::value,
                    std::move(signal), ref())
      .then([](caf::ok_atom) {}, failure(r.call));
  }

  void handle(turn_request&) {
    if (!require_login())
      return;
    if (!services().turn)
      return error(wire::ErrorCode::TURN_UNAVAILABLE, "this node offers no TURN relay");
    auto credentials = make_turn_credentials(*services().turn, user_, now_ms() / 1000);
    if (credentials.password.empty())
      return error(wire::ErrorCode::INTERNAL, "cannot compute TURN credentials");
    outgoing::turn(out(), credentials);
  }

  void handle(logout_request&) {
    log(log_level::info, "session: ", user_.empty() ? "(anonymous)" : user_,
        " logged out");
    phase_ = phase::closing;
    self()->flush(hdl_);
    self()->close(hdl_);  // CAF closes the socket once pending frames are out
  }

  // -- routing ----------------------------------------------------------------------

  /// The link to `user`'s home node; nullptr, after an error frame saying so,
  /// while that node is unreachable.
  const member_link* home_of(const std::string& user, std::string_view refers_to = {}) {
    auto link = routes()->home(user);
    if (!link)
      error(wire::ErrorCode::UNAVAILABLE,
            "the home node of " + user + " is unreachable; try again", refers_to);
    return link;
  }

  /// The link to this session's own home node, if still the one it attached
  /// through.
  const member_link* own_home() const {
    auto link = routes()->link(home_name_);
    return link && link->generation == home_generation_ ? link : nullptr;
  }

  /// The client's address, for login throttling.
  std::string peer_address() {
    return self()->remote_addr(hdl_);
  }

  // -- liveness --------------------------------------------------------------------

  /// The first liveness check comes 0.5–1.5 intervals after login, at random:
  /// sessions that logged in together (every client after a restart) do not
  /// check together ever after.
  void first_tick() {
    auto interval = settings().heartbeat_interval;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(interval).count();
    auto jitter = std::chrono::milliseconds(
      set_->nonces_.below(static_cast<uint64_t>(std::max<int64_t>(ms, 1))));
    auto delay = interval / 2 + jitter;
    next_tick_at_ = steady::now() + delay;
    set_->timers_.schedule(id_, next_tick_at_, session_timers::kind::tick);
  }

  /// Each check one interval after the one before was due, not after it ran: a
  /// late check (behind a busy I/O thread) would otherwise move every later one,
  /// and the checks of sessions late together would stay together, a burst
  /// every interval that each late round makes larger.
  void next_tick() {
    next_tick_at_ = std::max(next_tick_at_ + settings().heartbeat_interval,
                             steady::now());
    set_->timers_.schedule(id_, next_tick_at_, session_timers::kind::tick);
  }

  // -- output ----------------------------------------------------------------------

  outgoing::buffer& out() {
    return self()->wr_buf(hdl_);
  }

  /// Hands written frames to the socket once this turn's messages are handled
  /// (one write for all of them); a peer that does not read is cut off.
  void flush() {
    if (phase_ == phase::closing)
      return;
    if (caf_writing_)
      return hand_to_caf();
    if (!write_scheduled_ && !out().empty()) {
      write_scheduled_ = true;
      set_->schedule_write(id_);
    }
  }

  /// Writes straight to the socket. CAF's own flush sets write interest in
  /// epoll and clears it once written: two epoll_ctl calls and a wakeup per
  /// write, most of the syscalls of a lightly loaded node. Only what the socket
  /// does not take now is left to CAF's writer, which says when it is done
  /// (data_transferred_msg); until then every frame queues behind it. Nothing
  /// may sit in the buffer when CAF could flush it on its own (on_data).
  void write_queued() {
    if (phase_ == phase::closing || caf_writing_)
      return;
    auto& buf = out();
    if (buf.empty())
      return;
    auto n = ::send(static_cast<int>(hdl_.id()), buf.data(), buf.size(),
                    MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n == static_cast<ssize_t>(buf.size())) {
      // Given back, not kept for the next frame: most sessions are idle
      // between writes, and an allocation costs far less than a write.
      outgoing::buffer{}.swap(buf);
      return;
    }
    if (n > 0)
      buf.erase(buf.begin(), buf.begin() + n);
    // The socket is full, or failed: CAF's writer waits, or reports the error.
    caf_writing_ = true;
    self()->ack_writes(hdl_, true);
    hand_to_caf();
  }

  void hand_to_caf() {
    self()->flush(hdl_);
    // What is still queued behind the write in progress.
    if (self()->wr_buf(hdl_).size() > settings().max_outgoing_bytes)
      abort_slow_consumer();
  }

  /// Takes one request of `bytes` from the client's allowance; false, after a
  /// rateLimited error about `refers_to` saying how long to wait, if it is spent.
  bool within_rate(size_t bytes, std::string_view refers_to) {
    auto now = steady::now();
    auto wait = std::max(message_rate_.take(1, now),
                         byte_rate_.take(static_cast<double>(bytes), now));
    if (wait.count() <= 0)
      return true;
    error(wire::ErrorCode::RATE_LIMITED, "sending too fast; wait", refers_to,
          static_cast<uint32_t>(wait.count()));
    return false;
  }

  void error(wire::ErrorCode code, std::string_view message,
             std::string_view refers_to = {}, uint32_t retry_after_ms = 0) {
    services().metrics->count_error(code);
    outgoing::error(out(), code, message, refers_to, retry_after_ms);
  }

  void request_failed(const caf::error& err, std::string_view refers_to) {
    auto code = to_wire_code(err);
    if (code == wire::ErrorCode::INTERNAL)
      log(log_level::error, "session: request failed: ",
          self()->system().render(err));
    error(code, code == wire::ErrorCode::UNAVAILABLE ? "try again" : to_string(code),
          refers_to);
    flush();
  }

  /// Says why, then closes once the frame is out.
  void close(wire::ErrorCode code, std::string_view message) {
    if (phase_ == phase::closing)
      return;
    log(log_level::info, "session: closing ", user_.empty() ? "(anonymous)" : user_,
        ": ", to_string(code));
    error(code, message);
    phase_ = phase::closing;
    self()->flush(hdl_);
    self()->close(hdl_);
  }

  /// The peer does not read: drop what is queued instead of holding it. Its
  /// inbox items stay in the store until a later session gets them acknowledged.
  void abort_slow_consumer() {
    log(log_level::info, "session: closing ", user_, ": slowConsumer");
    phase_ = phase::closing;
    self()->wr_buf(hdl_).clear();
    // CAF 0.17 can only close gracefully, which would wait for the peer to read:
    // shutting the socket down makes the pending write fail at once.
    ::shutdown(static_cast<int>(hdl_.id()), SHUT_RDWR);
    self()->close(hdl_);
  }

  const node_settings& settings() const noexcept {
    return set_->settings_;
  }

  const node_services& services() const noexcept {
    return set_->services_;
  }

  caf::io::broker* self() const noexcept {
    return set_->hub_;
  }

  /// The latest cluster snapshot, the hub's.
  const routes_ptr& routes() const noexcept {
    return set_->routes_;
  }

  /// What a login under way has from the store, and sent to be signed.
  struct challenge {
    std::string identity_key;
    std::string nonce;
  };

  /// Sends the user's home has not answered yet, and the one to send again.
  struct send_books {
    std::unordered_map<uint64_t, unanswered_send> unanswered;  // by ticket
    /// Unanswered sends per home member, and the link they went over.
    struct link_use {
      uint64_t generation = 0;
      size_t count = 0;
    };
    std::unordered_map<std::string, link_use> in_flight;
    /// The first send refused for a reason that may pass, until sent again.
    std::optional<std::string> resend_from;
  };

  send_books& books() {
    if (!books_)
      books_ = std::make_unique<send_books>();
    return *books_;
  }

  // -- state -----------------------------------------------------------------------
  // Kept small: a session's size decides its allocator size class
  // (docs/BENCHMARKS.md, rows 34 and 36); what only some sessions need for a
  // while is allocated apart, and none of it is kept for an idle session.

  session_set* set_;
  caf::io::connection_handle hdl_;
  uint64_t id_;
  std::optional<frame_reader> reader_;

  phase phase_ = phase::anonymous;
  bool write_scheduled_ = false;  // in the hub's list of writes for this turn
  bool caf_writing_ = false;      // CAF's writer holds frames not yet written
  uint32_t watched_ = 0;          // users whose presence this session asked for
  std::string user_;              // claimed at login, proven once logged in
  std::string home_name_;         // the member that is home to user_
  uint64_t home_generation_ = 0;  // of the link attached through
  caf::actor registry_;           // the home's, once it may hold this session
  std::unique_ptr<challenge> challenge_;  // during login only
  /// Presence and call actors to tell when this session ends; none for most.
  std::unique_ptr<std::vector<caf::actor>> told_;

  int64_t connected_at_ = 0;  // ms since the epoch
  steady::time_point last_rx_;
  steady::time_point next_tick_at_;  // when the next liveness check is due
  steady::time_point last_beat_forwarded_;
  token_bucket message_rate_;
  token_bucket byte_rate_;
  uint64_t next_ticket_ = 0;  // never reused: a late answer must find no send
  std::unique_ptr<send_books> books_;  // while sends are under way
};

// -- the set -----------------------------------------------------------------------

session_set::session_set(caf::io::broker* hub, const node_settings& settings,
                         node_services services, routes_ptr routes)
  : hub_(hub),
    settings_(settings),
    services_(std::move(services)),
    routes_(std::move(routes)),
    timers_(session_timers::beat_for(settings.heartbeat_interval)) {
  // nop
}

session_set::~session_set() {
  // The hub is going: whoever holds its sessions learns it from a monitor.
  stopping_ = true;
  by_socket_.clear();
}

session* session_set::find(uint64_t id) noexcept {
  auto socket = static_cast<size_t>(id & 0xffffffff);
  if (socket >= by_socket_.size() || !by_socket_[socket]
      || by_socket_[socket]->id() != id)
    return nullptr;
  return by_socket_[socket].get();
}

template <class F>
bool session_set::visit(uint64_t id, F&& f) {
  auto s = find(id);
  if (!s)
    return false;
  f(*s);
  if (s->closing())
    erase(*s);
  return true;
}

void session_set::erase(session& s) {
  auto socket = static_cast<size_t>(s.id() & 0xffffffff);
  --size_;
  services_.metrics->connections.fetch_sub(1, std::memory_order_relaxed);
  by_socket_[socket].reset();
}

void session_set::open(caf::io::connection_handle hdl) {
  auto socket = static_cast<size_t>(hdl.id());
  if (socket >= by_socket_.size())
    by_socket_.resize(std::max(socket + 1, by_socket_.size() * 2));
  auto id = (next_serial_++ << 32) | socket;
  by_socket_[socket] = std::make_unique<session>(*this, id, hdl);
  ++size_;
  services_.metrics->connections.fetch_add(1, std::memory_order_relaxed);
  by_socket_[socket]->start();
}

namespace {

/// The id of the session on `hdl`'s socket, or 0.
uint64_t id_on(const std::vector<std::unique_ptr<session>>& by_socket,
               caf::io::connection_handle hdl) {
  auto socket = static_cast<size_t>(hdl.id());
  return socket < by_socket.size() && by_socket[socket] ? by_socket[socket]->id() : 0;
}

} // namespace

void session_set::on_data(const caf::io::new_data_msg& msg) {
  visit(id_on(by_socket_, msg.handle), [&](session& s) { s.on_data(msg); });
}

void session_set::on_transferred(const caf::io::data_transferred_msg& msg) {
  visit(id_on(by_socket_, msg.handle), [&](session& s) { s.on_transferred(msg); });
}

void session_set::on_closed(caf::io::connection_handle hdl) {
  visit(id_on(by_socket_, hdl), [](session& s) { s.on_closed(); });
}

void session_set::deliver(uint64_t id, const inbox_items& items) {
  visit(id, [&](session& s) { s.deliver(items); });
}

void session_set::sent(uint64_t id, uint64_t ticket, int64_t time) {
  visit(id, [&](session& s) { s.on_sent(ticket, time); });
}

void session_set::refused(uint64_t id, uint64_t ticket, const caf::error& err) {
  visit(id, [&](session& s) { s.on_refused(ticket, err); });
}

void session_set::prekeys_low(uint64_t id, uint32_t remaining) {
  visit(id, [&](session& s) { s.prekeys_low(remaining); });
}

void session_set::presence(uint64_t id, const presence_info& info) {
  visit(id, [&](session& s) { s.presence(info); });
}

void session_set::call(uint64_t id, const call_signal& signal) {
  visit(id, [&](session& s) { s.call(signal); });
}

void session_set::kick(uint64_t id, uint8_t code) {
  visit(id, [&](session& s) { s.kick(code); });
}

std::optional<std::string> session_set::stats(uint64_t id) {
  if (auto s = find(id))
    return s->stats_json();
  return std::nullopt;
}

namespace {

/// Calls `f(id)` for every session's id, taken first: `f` may close sessions.
template <class F>
void each_id(const std::vector<std::unique_ptr<session>>& by_socket, F f) {
  std::vector<uint64_t> ids;
  for (auto& s : by_socket)
    if (s)
      ids.push_back(s->id());
  for (auto id : ids)
    f(id);
}

} // namespace

void session_set::set_routes(routes_ptr routes) {
  routes_ = std::move(routes);
  each_id(by_socket_,
          [this](uint64_t id) { visit(id, [](session& s) { s.on_routes(); }); });
}

void session_set::stop_all() {
  each_id(by_socket_, [this](uint64_t id) { visit(id, [](session& s) { s.stop(); }); });
}

std::string session_set::stats_all() {
  std::string json = "[";
  for (auto& s : by_socket_) {
    if (!s)
      continue;
    if (json.size() > 1)
      json += ",";
    json += s->stats_json();
  }
  return json + "]";
}

void session_set::fire_due_timers() {
  // Gathered first: a check schedules the next one in the wheel.
  std::vector<std::pair<uint64_t, session_timers::kind>> due;
  timers_.advance(session_timers::clock::now(),
                  [&](uint64_t id, session_timers::kind what) {
                    due.emplace_back(id, what);
                  });
  for (auto& [id, what] : due)
    visit(id, [what = what](session& s) {
      if (what == session_timers::kind::tick)
        s.check_heartbeats();
      else
        s.on_deadline();
    });
}

void session_set::send_heartbeats() {
  beats_.flush([this](const caf::actor& presence, std::vector<std::string>&& users) {
    hub_->send(presence, heartbeat_atom::value, std::move(users));
  });
}

void session_set::schedule_write(uint64_t id) {
  writes_.push_back(id);
  if (!write_sent_) {
    write_sent_ = true;
    hub_->send(hub_, flush_atom::value);  // behind what the mailbox holds
  }
}

void session_set::write_scheduled() {
  write_sent_ = false;
  // Swapped, not moved out: both lists keep their capacity from turn to turn.
  writes_.swap(writing_);
  for (auto id : writing_)
    visit(id, [](session& s) { s.write_scheduled(); });
  writing_.clear();
}

} // namespace parley
