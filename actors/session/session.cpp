#include "actors/session/session.hpp"

#include "actors/cluster/routes.hpp"
#include "actors/clock.hpp"
#include "actors/log.hpp"
#include "actors/messages.hpp"
#include "actors/session/outgoing.hpp"
#include "actors/store/records.hpp"
#include "schema/bytes.hpp"
#include "schema/errors.hpp"
#include "schema/frame.hpp"
#include "schema/rules.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <sodium.h>
#include <sys/socket.h>

#include <chrono>
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

class session_state {
public:
  static inline const char* name = "session";

  explicit session_state(caf::io::broker* self) : self_(self) {
    // nop
  }

  caf::behavior make_behavior(caf::io::connection_handle hdl, routes_ptr routes,
                              caf::actor verifier, const node_settings* settings) {
    hdl_ = hdl;
    routes_ = std::move(routes);
    verifier_ = std::move(verifier);
    settings_ = settings;
    reader_.emplace(settings_->max_frame);
    last_rx_ = steady::now();
    self_->configure_read(hdl_, caf::io::receive_policy::at_most(settings_->read_chunk));
    self_->delayed_send(self_, settings_->login_timeout, deadline_atom::value);
    return {
      [this](const caf::io::new_data_msg& msg) { on_data(msg); },
      [this](const caf::io::connection_closed_msg&) { self_->quit(); },
      [this](deliver_atom, const inbox_items& items) {
        for (auto& item : items)
          outgoing::inbox_entry(out(), item);
        flush();
      },
      [this](presence_atom, const presence_info& info) {
        outgoing::presence(out(), info);
        flush();
      },
      [this](kick_atom, uint8_t code) {
        close(static_cast<wire::ErrorCode>(code), "logged in on another connection");
      },
      [this](stop_atom) {
        close(wire::ErrorCode::SHUTTING_DOWN, "the node is stopping; reconnect");
      },
      [this](deadline_atom) {
        if (phase_ != phase::logged_in && phase_ != phase::closing)
          close(wire::ErrorCode::LOGIN_TIMEOUT, "no login in time");
      },
      [this](tick_atom) { check_heartbeats(); },
      [this](routes_atom, routes_ptr& routes) {
        routes_ = std::move(routes);
        if (phase_ == phase::logged_in && !own_home())
          close(wire::ErrorCode::UNAVAILABLE,
                "lost the link to this user's home node; reconnect");
      },
    };
  }

private:
  // -- input -----------------------------------------------------------------------

  void on_data(const caf::io::new_data_msg& msg) {
    if (phase_ == phase::closing)
      return;
    last_rx_ = steady::now();
    reader_->feed(msg.buf.data(), msg.buf.size());
    while (auto frame = reader_->next()) {
      dispatch(*frame);
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
    flush();
  }

  void dispatch(kj::ArrayPtr<const capnp::word> words) {
    try {
      capnp::FlatArrayMessageReader message(words, reader_options(words.size()));
      auto frame = message.getRoot<wire::ClientFrame>();
      switch (frame.which()) {
        case wire::ClientFrame::REGISTER:
          return on_register(frame.getRegister());
        case wire::ClientFrame::LOGIN:
          return on_login(frame.getLogin());
        case wire::ClientFrame::PROVE:
          return on_prove(frame.getProve());
        case wire::ClientFrame::SEND:
          return on_send(frame.getSend());
        case wire::ClientFrame::ACK:
          return on_ack(frame.getAck());
        case wire::ClientFrame::ACK_RECEIPTS:
          return on_ack_receipts(frame.getAckReceipts());
        case wire::ClientFrame::HEARTBEAT:
          return on_heartbeat();
        case wire::ClientFrame::LAST_SEEN:
          return on_last_seen(frame.getLastSeen());
        case wire::ClientFrame::LOGOUT:
          return on_logout();
        case wire::ClientFrame::WATCH:
          return on_watch(frame.getWatch());
      }
      error(wire::ErrorCode::UNSUPPORTED, "unknown request");
    } catch (const kj::Exception& e) {
      close(wire::ErrorCode::MALFORMED_FRAME, "malformed frame");
    }
  }

  bool require_login() {
    if (phase_ == phase::logged_in)
      return true;
    error(wire::ErrorCode::NOT_LOGGED_IN, "log in first");
    return false;
  }

  void on_register(wire::Register::Reader r) {
    if (phase_ == phase::logged_in)
      return error(wire::ErrorCode::ALREADY_LOGGED_IN, "already logged in");
    auto user = to_string(r.getUser());
    auto key = to_string(r.getIdentityKey());
    if (!valid_user_name(user))
      return error(wire::ErrorCode::INVALID_NAME, "names are 1-32 of [a-z0-9._-]");
    if (key.size() != identity_key_bytes
        || crypto_core_ed25519_is_valid_point(
             reinterpret_cast<const unsigned char*>(key.data()))
             != 1)
      return error(wire::ErrorCode::INVALID_KEY, "not an Ed25519 public key");
    auto home = home_of(user);
    if (!home)
      return;
    self_->request(home->actors.store, settings_->request_timeout, register_atom::value,
                   user, std::move(key))
      .then(
        [this, user](caf::ok_atom) {
          outgoing::registered(out(), user);
          flush();
        },
        [this](const caf::error& err) { request_failed(err, {}); });
  }

  void on_login(wire::Login::Reader r) {
    if (phase_ == phase::logged_in)
      return error(wire::ErrorCode::ALREADY_LOGGED_IN, "already logged in");
    if (phase_ != phase::anonymous)
      return error(wire::ErrorCode::UNEXPECTED, "a login is under way");
    auto user = to_string(r.getUser());
    if (!valid_user_name(user))
      return error(wire::ErrorCode::INVALID_NAME, "names are 1-32 of [a-z0-9._-]");
    auto home = home_of(user);
    if (!home)
      return;
    phase_ = phase::challenged;
    self_->request(home->actors.store, settings_->request_timeout, user_key_atom::value,
                   user)
      .then(
        [this, user](std::string& key) {
          if (phase_ != phase::challenged)
            return;
          user_ = user;
          identity_key_ = std::move(key);
          nonce_.resize(nonce_bytes);
          randombytes_buf(nonce_.data(), nonce_.size());
          outgoing::challenge(out(), nonce_);
          flush();
        },
        [this](const caf::error& err) {
          if (phase_ == phase::challenged)
            phase_ = phase::anonymous;
          request_failed(err, {});
        });
  }

  void on_prove(wire::Prove::Reader r) {
    if (phase_ == phase::logged_in)
      return error(wire::ErrorCode::ALREADY_LOGGED_IN, "already logged in");
    if (phase_ != phase::challenged || nonce_.empty())
      return error(wire::ErrorCode::UNEXPECTED, "prove answers a challenge");
    auto signature = to_string(r.getSignature());
    if (signature.size() != signature_bytes)
      return close(wire::ErrorCode::BAD_SIGNATURE, "login proof does not verify");
    phase_ = phase::verifying;
    self_->request(verifier_, settings_->request_timeout, verify_atom::value,
                   identity_key_, nonce_, std::move(signature))
      .then(
        [this](bool valid) {
          if (!valid)
            return close(wire::ErrorCode::BAD_SIGNATURE, "login proof does not verify");
          attach();
        },
        [this](const caf::error& err) {
          phase_ = phase::anonymous;
          request_failed(err, {});
        });
  }

  /// The proof holds: become the user's one session.
  void attach() {
    auto home = routes_->home(user_);
    if (!home) {
      phase_ = phase::anonymous;
      return error(wire::ErrorCode::UNAVAILABLE,
                   "the home node of " + user_ + " is unreachable; try again");
    }
    home_name_ = routes_->home_name(user_);
    home_generation_ = home->generation;
    self_->request(home->actors.registry, settings_->request_timeout,
                   attach_atom::value, user_, caf::actor_cast<caf::actor>(self_))
      .then(
        [this](caf::ok_atom) {
          if (phase_ == phase::closing)
            return;
          auto home = own_home();
          if (!home)
            return close(wire::ErrorCode::UNAVAILABLE,
                         "lost the link to this user's home node; reconnect");
          phase_ = phase::logged_in;
          nonce_.clear();
          identity_key_.clear();
          identity_key_.shrink_to_fit();
          log(log_level::info, "session: ", user_, " logged in");
          auto hb = std::chrono::duration_cast<std::chrono::seconds>(
            settings_->heartbeat_interval);
          outgoing::welcome(out(), user_, now_ms(),
                            static_cast<uint32_t>(std::max<int64_t>(1, hb.count())),
                            static_cast<uint32_t>(settings_->max_payload),
                            static_cast<uint32_t>(settings_->max_pending_sends));
          flush();
          self_->send(home->actors.store, subscribe_atom::value, user_,
                      caf::actor_cast<caf::actor>(self_));
          self_->delayed_send(self_, settings_->heartbeat_interval, tick_atom::value);
        },
        [this](const caf::error& err) {
          phase_ = phase::anonymous;
          request_failed(err, {});
        });
  }

  void on_send(wire::Send::Reader r) {
    if (!require_login())
      return;
    auto id = to_string(r.getId());
    if (id.size() != message_id_bytes)
      return error(wire::ErrorCode::INVALID_ID, "message ids are 16 bytes");
    auto to = to_string(r.getTo());
    if (!valid_user_name(to))
      return error(wire::ErrorCode::INVALID_NAME, "no such user name", id);
    auto payload = r.getPayload();
    if (payload.size() > settings_->max_payload)
      return error(wire::ErrorCode::PAYLOAD_TOO_LARGE, "payload over the limit", id);
    // A client keeps at most maxPendingSends unanswered (Welcome says how many).
    // Refusing is the backpressure: CAF 0.17 loses a read resumed in the same
    // loop iteration it was halted in, so halting the socket could stall it.
    if (pending_sends_ >= settings_->max_pending_sends)
      return error(wire::ErrorCode::TOO_MANY_PENDING, "too many unanswered sends", id);
    auto home = home_of(to, id);
    if (!home)
      return;
    // Order across nodes: CAF may lose what was sent over a link that broke,
    // but never a message in the middle of one link's stream. So a send goes
    // out only if every unanswered send to that node used the same link;
    // otherwise the client retries it once the old ones are answered.
    auto& member = routes_->home_name(to);
    auto& flight = sends_in_flight_[member];
    if (flight.count > 0 && flight.generation != home->generation)
      return error(wire::ErrorCode::UNAVAILABLE,
                   "the link to the recipient's home node changed; retry", id);
    flight.generation = home->generation;
    ++flight.count;
    ++pending_sends_;
    outgoing_message msg{user_, to, id, to_string(payload)};
    self_->request(home->actors.store, settings_->request_timeout, append_atom::value,
                   std::move(msg))
      .then(
        [this, id, to, member](int64_t time) {
          send_answered(member);
          outgoing::sent(out(), id, to, time);
          flush();
        },
        [this, id, member](const caf::error& err) {
          send_answered(member);
          request_failed(err, id);
        });
  }

  void send_answered(const std::string& member) {
    --pending_sends_;
    auto i = sends_in_flight_.find(member);
    if (i != sends_in_flight_.end() && --i->second.count == 0)
      sends_in_flight_.erase(i);
  }

  /// The link to `user`'s home node; nullptr, after an error frame saying so,
  /// while that node is unreachable.
  const member_link* home_of(const std::string& user, std::string_view refers_to = {}) {
    auto link = routes_->home(user);
    if (!link)
      error(wire::ErrorCode::UNAVAILABLE,
            "the home node of " + user + " is unreachable; try again", refers_to);
    return link;
  }

  /// The link to this session's own home node, if still the one it attached
  /// through.
  const member_link* own_home() const {
    auto link = routes_->link(home_name_);
    return link && link->generation == home_generation_ ? link : nullptr;
  }

  void on_ack(wire::Ack::Reader r) {
    if (!require_login())
      return;
    auto peer = to_string(r.getPeer());
    if (!valid_user_name(peer))
      return error(wire::ErrorCode::INVALID_NAME, "no such user name");
    std::vector<std::string> ids;
    ids.reserve(r.getIds().size());
    for (auto id : r.getIds()) {
      if (id.size() != message_id_bytes)
        return error(wire::ErrorCode::INVALID_ID, "message ids are 16 bytes");
      ids.emplace_back(to_string(id));
    }
    auto state = r.getState() == wire::AckState::READ ? message_state::read
                                                      : message_state::delivered;
    if (auto home = own_home())
      self_->send(home->actors.store, ack_atom::value, user_, std::move(peer),
                  std::move(ids), static_cast<uint8_t>(state));
  }

  void on_ack_receipts(wire::AckReceipts::Reader r) {
    if (!require_login())
      return;
    std::vector<uint64_t> seqs;
    seqs.reserve(r.getSeqs().size());
    for (auto seq : r.getSeqs())
      seqs.push_back(seq);
    if (auto home = own_home())
      self_->send(home->actors.store, ack_receipts_atom::value, user_, std::move(seqs));
  }

  void on_heartbeat() {
    outgoing::pong(out());
    if (phase_ != phase::logged_in)
      return;
    // Presence needs a beat per interval, not every beat a client sends.
    auto now = steady::now();
    if (now - last_beat_forwarded_ >= settings_->heartbeat_interval / 2) {
      last_beat_forwarded_ = now;
      if (auto home = own_home())
        self_->send(home->actors.presence, heartbeat_atom::value, user_);
    }
  }

  void on_last_seen(wire::LastSeen::Reader r) {
    if (!require_login())
      return;
    auto user = to_string(r.getUser());
    if (!valid_user_name(user))
      return error(wire::ErrorCode::INVALID_NAME, "no such user name");
    auto home = home_of(user);
    if (!home)
      return;
    self_->request(home->actors.presence, settings_->request_timeout,
                   last_seen_atom::value, user)
      .then(
        [this](const presence_info& info) {
          outgoing::presence(out(), info);
          flush();
        },
        [this](const caf::error& err) { request_failed(err, {}); });
  }

  void on_watch(wire::Watch::Reader r) {
    if (!require_login())
      return;
    auto self = caf::actor_cast<caf::actor>(self_);
    for (auto user : r.getUsers()) {
      if (watched_ >= settings_->max_watched)
        return error(wire::ErrorCode::LIMIT_EXCEEDED, "too many watched users");
      auto name = to_string(user);
      if (!valid_user_name(name))
        return error(wire::ErrorCode::INVALID_NAME, "no such user name");
      auto home = home_of(name);
      if (!home)
        return;
      ++watched_;
      self_->send(home->actors.presence, watch_atom::value, std::move(name), self);
    }
  }

  void on_logout() {
    log(log_level::info, "session: ", user_.empty() ? "(anonymous)" : user_,
        " logged out");
    phase_ = phase::closing;
    self_->flush(hdl_);
    self_->quit();  // the broker closes the socket once pending frames are out
  }

  // -- liveness --------------------------------------------------------------------

  void check_heartbeats() {
    if (phase_ != phase::logged_in)
      return;
    auto silence = steady::now() - last_rx_;
    if (silence > settings_->heartbeat_interval * settings_->missed_heartbeats) {
      close(wire::ErrorCode::HEARTBEAT_TIMEOUT, "missed heartbeats");
      return;
    }
    self_->delayed_send(self_, settings_->heartbeat_interval, tick_atom::value);
  }

  // -- output ----------------------------------------------------------------------

  outgoing::buffer& out() {
    return self_->wr_buf(hdl_);
  }

  /// Hands written frames to the socket; a peer that does not read is cut off.
  void flush() {
    if (phase_ == phase::closing)
      return;
    self_->flush(hdl_);
    // What is still queued behind the write in progress.
    if (self_->wr_buf(hdl_).size() > settings_->max_outgoing_bytes)
      abort_slow_consumer();
  }

  void error(wire::ErrorCode code, std::string_view message,
             std::string_view refers_to = {}) {
    outgoing::error(out(), code, message, refers_to);
  }

  void request_failed(const caf::error& err, std::string_view refers_to) {
    auto code = to_wire_code(err);
    if (code == wire::ErrorCode::INTERNAL)
      log(log_level::error, "session: request failed: ",
          self_->system().render(err));
    error(code, code == wire::ErrorCode::UNAVAILABLE ? "try again" : parley::to_string(code),
          refers_to);
    flush();
  }

  /// Says why, then closes once the frame is out.
  void close(wire::ErrorCode code, std::string_view message) {
    if (phase_ == phase::closing)
      return;
    log(log_level::info, "session: closing ", user_.empty() ? "(anonymous)" : user_,
        ": ", parley::to_string(code));
    error(code, message);
    phase_ = phase::closing;
    self_->flush(hdl_);
    self_->quit();
  }

  /// The peer does not read: drop what is queued instead of holding it. Its
  /// inbox items stay in the store until a later session gets them acknowledged.
  void abort_slow_consumer() {
    log(log_level::info, "session: closing ", user_, ": slowConsumer");
    phase_ = phase::closing;
    self_->wr_buf(hdl_).clear();
    // CAF 0.17 can only close gracefully, which would wait for the peer to read:
    // shutting the socket down makes the pending write fail at once.
    ::shutdown(static_cast<int>(hdl_.id()), SHUT_RDWR);
    self_->quit();
  }

  // -- state -----------------------------------------------------------------------

  caf::io::broker* self_;
  caf::io::connection_handle hdl_;
  routes_ptr routes_;  // the latest snapshot from the listener
  caf::actor verifier_;
  const node_settings* settings_ = nullptr;
  std::optional<frame_reader> reader_;

  phase phase_ = phase::anonymous;
  std::string user_;          // claimed at login, proven once logged in
  std::string home_name_;     // the member that is home to user_
  uint64_t home_generation_ = 0;  // of the link attached through
  std::string identity_key_;  // during login only
  std::string nonce_;         // during login only

  steady::time_point last_rx_;
  steady::time_point last_beat_forwarded_;
  size_t pending_sends_ = 0;
  /// Unanswered sends per home member, and the link they went over.
  struct in_flight {
    uint64_t generation = 0;
    size_t count = 0;
  };
  std::unordered_map<std::string, in_flight> sends_in_flight_;
  size_t watched_ = 0;
};

using session_broker = caf::io::stateful_broker<session_state>;

caf::behavior session_impl(session_broker* self, caf::io::connection_handle hdl,
                           routes_ptr routes, caf::actor verifier,
                           const node_settings* settings) {
  return self->state.make_behavior(hdl, std::move(routes), std::move(verifier),
                                   settings);
}

} // namespace

caf::actor fork_session(caf::io::broker* acceptor, caf::io::connection_handle hdl,
                        const routes_ptr& routes, const caf::actor& verifier,
                        const node_settings* settings) {
  return acceptor->fork(session_impl, hdl, routes, verifier, settings);
}

} // namespace parley
