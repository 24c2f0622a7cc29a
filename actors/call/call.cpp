#include "actors/call/call.hpp"

#include "actors/call/call_machine.hpp"
#include "actors/call/call_messages.hpp"
#include "actors/cluster/routes.hpp"
#include "actors/log.hpp"
#include "actors/messages.hpp"
#include "actors/session/session_ref.hpp"

#include <caf/all.hpp>

#include <optional>
#include <unordered_map>

namespace parley {

namespace {

using forget_atom = caf::atom_constant<caf::atom("forget")>;

struct call_entry {
  std::string caller;
  std::string callee;
  call_machine machine;
  session_ref caller_session;  // the sessions that sent this call's signals
  session_ref callee_session;
};

class call_state {
public:
  static inline const char* name = "calls";

  explicit call_state(caf::event_based_actor* self) : self_(self) {
    // nop
  }

  caf::behavior make_behavior(const node_settings* settings) {
    settings_ = settings;
    self_->set_down_handler([this](const caf::down_msg& msg) {
      if (hubs_.gone(msg.source))
        hang_up_where([&](const session_ref& s) { return s.hub.address() == msg.source; });
    });
    return {
      [this](session_ended_atom, const session_ref& session) {
        hang_up_where([&](const session_ref& s) { return s == session; });
      },
      [this](call_atom, call_signal& s, const session_ref& session)
        -> caf::result<caf::ok_atom> {
        if (auto code = on_signal(s, session))
          return make_error(*code);
        return caf::ok_atom::value;
      },
      [this](deadline_atom, const std::string& call) { on_deadline(call); },
      [this](forget_atom, const std::string& call) {
        if (auto i = calls_.find(call); i != calls_.end() && i->second.machine.ended())
          calls_.erase(i);
      },
      [this](routes_atom, routes_ptr& routes) { routes_ = std::move(routes); },
    };
  }

private:
  /// Applies a party's signal and passes it on; the error code if refused.
  std::optional<wire::ErrorCode> on_signal(call_signal& s, const session_ref& session) {
    if (s.what() == wire::CallSignalKind::OFFER) {
      auto [i, fresh] = calls_.try_emplace(s.call);
      if (!fresh)
        return wire::ErrorCode::CALL_INVALID;  // the id is taken
      auto& c = i->second;
      c.caller = s.from;
      c.callee = s.to;
      c.machine.apply(call_machine::party::caller, s.what());
      remember(c.caller_session, session);
      self_->delayed_send(self_, settings_->call_ring_timeout, deadline_atom::value,
                          s.call);
      log(log_level::info, "calls: ", s.from, " calls ", s.to);
      forward(std::move(s));
      return std::nullopt;
    }
    auto i = calls_.find(s.call);
    if (i == calls_.end())
      return wire::ErrorCode::UNKNOWN_CALL;
    auto& c = i->second;
    call_machine::party who;
    if (s.from == c.caller && s.to == c.callee)
      who = call_machine::party::caller;
    else if (s.from == c.callee && s.to == c.caller)
      who = call_machine::party::callee;
    else
      return wire::ErrorCode::CALL_INVALID;  // not a party of this call
    if (!c.machine.apply(who, s.what()))
      return wire::ErrorCode::CALL_INVALID;
    remember(who == call_machine::party::caller ? c.caller_session : c.callee_session,
             session);
    if (c.machine.ended())
      ended(s.call);
    forward(std::move(s));
    return std::nullopt;
  }

  void on_deadline(const std::string& call) {
    auto i = calls_.find(call);
    if (i == calls_.end() || !i->second.machine.unanswered())
      return;
    auto& c = i->second;
    c.machine.apply(call_machine::party::node, wire::CallSignalKind::TIMEOUT);
    log(log_level::info, "calls: ", c.caller, " -> ", c.callee, " unanswered: timeout");
    auto timeout = static_cast<uint8_t>(wire::CallSignalKind::TIMEOUT);
    forward(call_signal{call, c.callee, c.caller, timeout, {}});
    forward(call_signal{call, c.caller, c.callee, timeout, {}});
    ended(call);
  }

  /// Parties' sessions are gone (those `gone_session` says): their calls end
  /// as if they hung up.
  template <class Predicate>
  void hang_up_where(Predicate gone_session) {
    auto hangup = static_cast<uint8_t>(wire::CallSignalKind::HANGUP);
    for (auto& [id, c] : calls_) {
      if (c.machine.ended())
        continue;
      std::string gone;
      std::string other;
      if (c.caller_session && gone_session(c.caller_session)) {
        gone = c.caller;
        other = c.callee;
      } else if (c.callee_session && gone_session(c.callee_session)) {
        gone = c.callee;
        other = c.caller;
      } else {
        continue;
      }
      c.machine.apply(gone == c.caller ? call_machine::party::caller
                                       : call_machine::party::callee,
                      wire::CallSignalKind::HANGUP);
      forward(call_signal{id, gone, other, hangup, {}});
      ended(id);
    }
  }

  void remember(session_ref& slot, const session_ref& session) {
    slot = session;
    hubs_.watch(self_, session);
  }

  /// Keeps an ended call a while, so that a late signal is refused as such.
  void ended(const std::string& call) {
    self_->delayed_send(self_, settings_->call_ring_timeout, forget_atom::value, call);
  }

  /// Hands a signal to the session of its recipient, wherever it is.
  void forward(call_signal s) {
    auto home = routes_ ? routes_->home(s.to) : nullptr;
    if (home == nullptr)
      return;  // the recipient's home is unreachable: the signal is lost
    auto to = s.to;
    self_->request(home->actors.registry, settings_->request_timeout, caf::get_atom::value,
                   to)
      .then(
        [this, s = std::move(s)](const session_ref& session) mutable {
          if (session)
            session.tell(self_, call_atom::value, std::move(s));
        },
        [](const caf::error&) {
          // Lost like a signal to a party that is not connected.
        });
  }

  caf::event_based_actor* self_;
  const node_settings* settings_ = nullptr;
  routes_ptr routes_;
  std::unordered_map<std::string, call_entry> calls_;
  hub_monitors hubs_;
};

using call_actor = caf::stateful_actor<call_state>;

caf::behavior call_impl(call_actor* self, const node_settings* settings) {
  return self->state.make_behavior(settings);
}

} // namespace

caf::actor spawn_call_actor(caf::actor_system& sys, const node_settings& settings) {
  return sys.spawn(call_impl, &settings);
}

} // namespace parley
