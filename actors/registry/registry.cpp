#include "actors/registry/registry.hpp"

#include "actors/log.hpp"
#include "actors/messages.hpp"
#include "actors/session/session_ref.hpp"

#include <caf/all.hpp>

#include <unordered_map>
#include <vector>

namespace parley {

namespace {

class registry_state {
public:
  static inline const char* name = "registry";

  explicit registry_state(caf::event_based_actor* self) : self_(self) {
    // nop
  }

  caf::behavior make_behavior(caf::actor presence, caf::actor store) {
    presence_ = std::move(presence);
    store_ = std::move(store);
    self_->set_down_handler([this](const caf::down_msg& msg) { on_down(msg); });
    return {
      [this](attach_atom, const std::string& user, const session_ref& session) {
        attach(user, session);
        return caf::ok_atom::value;
      },
      [this](session_ended_atom, const std::string& user, const session_ref& session) {
        ended(user, session);
      },
      [this](kick_atom, const std::string& user) {
        auto i = sessions_.find(user);
        if (i == sessions_.end())
          return false;
        i->second.tell(self_, kick_atom::value,
                       static_cast<uint8_t>(wire::ErrorCode::KICKED));
        return true;
      },
      [this](stats_atom) {
        return "{\"mailbox\":" + std::to_string(self_->mailbox().size())
               + ",\"users\":" + std::to_string(sessions_.size()) + "}";
      },
      [this](caf::get_atom, const std::string& user) {
        auto i = sessions_.find(user);
        return i == sessions_.end() ? session_ref{} : i->second;
      },
    };
  }

private:
  void attach(const std::string& user, const session_ref& session) {
    hubs_.watch(self_, session);
    auto [i, added] = sessions_.emplace(user, session);
    if (!added) {
      if (i->second == session)
        return;
      log(log_level::info, "registry: ", user, " logged in again; replacing");
      // It tells this registry as it ends, and the store hears of it then.
      i->second.tell(self_, kick_atom::value,
                     static_cast<uint8_t>(wire::ErrorCode::REPLACED));
      i->second = session;
    } else {
      self_->send(presence_, online_atom::value, user);
    }
  }

  /// A session of `user` ended: the user's, or one replaced (or one that ended
  /// before its attach arrived, which then ends again).
  void ended(const std::string& user, const session_ref& session) {
    self_->send(store_, session_ended_atom::value, user, session);
    auto i = sessions_.find(user);
    if (i == sessions_.end() || i->second != session)
      return;
    sessions_.erase(i);
    self_->send(presence_, offline_atom::value, user);
  }

  /// A hub stopped or its member was lost: its sessions have ended.
  void on_down(const caf::down_msg& msg) {
    if (!hubs_.gone(msg.source))
      return;
    std::vector<std::pair<std::string, session_ref>> gone;
    for (auto& [user, session] : sessions_)
      if (session.hub.address() == msg.source)
        gone.emplace_back(user, session);
    for (auto& [user, session] : gone)
      ended(user, session);
  }

  caf::event_based_actor* self_;
  caf::actor presence_;
  caf::actor store_;
  std::unordered_map<std::string, session_ref> sessions_;  // user -> session
  hub_monitors hubs_;
};

using registry_actor = caf::stateful_actor<registry_state>;

caf::behavior registry_impl(registry_actor* self, caf::actor presence, caf::actor store) {
  return self->state.make_behavior(std::move(presence), std::move(store));
}

} // namespace

caf::actor spawn_registry(caf::actor_system& sys, const caf::actor& presence,
                          const caf::actor& store) {
  return sys.spawn(registry_impl, presence, store);
}

} // namespace parley
