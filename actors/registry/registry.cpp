#include "actors/registry/registry.hpp"

#include "actors/log.hpp"
#include "actors/messages.hpp"

#include <caf/all.hpp>

#include <unordered_map>

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
      [this](attach_atom, const std::string& user, const caf::actor& session) {
        attach(user, session);
        return caf::ok_atom::value;
      },
      [this](kick_atom, const std::string& user) {
        auto i = sessions_.find(user);
        if (i == sessions_.end())
          return false;
        self_->send(i->second, kick_atom::value,
                    static_cast<uint8_t>(wire::ErrorCode::KICKED));
        return true;
      },
      [this](stats_atom) {
        return "{\"mailbox\":" + std::to_string(self_->mailbox().size())
               + ",\"users\":" + std::to_string(sessions_.size()) + "}";
      },
      [this](caf::get_atom, const std::string& user) {
        auto i = sessions_.find(user);
        return i == sessions_.end() ? caf::actor{} : i->second;
      },
    };
  }

private:
  void attach(const std::string& user, const caf::actor& session) {
    auto [i, added] = sessions_.emplace(user, session);
    if (!added) {
      if (i->second == session)
        return;
      log(log_level::info, "registry: ", user, " logged in again; replacing");
      // Still monitored: the store hears when the replaced session ends.
      entries_by_session_.erase(i->second.address());
      self_->send(i->second, kick_atom::value,
                  static_cast<uint8_t>(wire::ErrorCode::REPLACED));
      i->second = session;
    } else {
      self_->send(presence_, online_atom::value, user);
    }
    entries_by_session_[session.address()] = &*i;
    self_->monitor(session);
  }

  void on_down(const caf::down_msg& msg) {
    self_->send(store_, session_ended_atom::value, msg.source);
    auto i = entries_by_session_.find(msg.source);
    if (i == entries_by_session_.end())
      return;  // replaced by a newer session of its user
    auto user = i->second->first;
    entries_by_session_.erase(i);
    sessions_.erase(user);
    self_->send(presence_, offline_atom::value, user);
  }

  using session_table = std::unordered_map<std::string, caf::actor>;

  caf::event_based_actor* self_;
  caf::actor presence_;
  caf::actor store_;
  session_table sessions_;  // user -> session
  /// Each session's entry in sessions_, erased with it or when replaced; a
  /// pointer, not the user's name again, as an entry stays where it is until
  /// erased (docs/BENCHMARKS.md, row 42).
  std::unordered_map<caf::actor_addr, session_table::value_type*> entries_by_session_;
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
