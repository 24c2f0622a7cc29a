#include "actors/group/directory.hpp"

#include "actors/cluster/routes.hpp"
#include "actors/group/group.hpp"
#include "actors/group/group_messages.hpp"
#include "actors/log.hpp"

#include <caf/all.hpp>

#include <unordered_map>

namespace parley {

namespace {

class directory_state {
public:
  static inline const char* name = "group-directory";

  explicit directory_state(caf::event_based_actor* self) : self_(self) {
    // nop
  }

  caf::behavior make_behavior(caf::actor store, const node_settings* settings) {
    store_ = std::move(store);
    settings_ = settings;
    self_->set_down_handler([this](const caf::down_msg& msg) { on_down(msg); });
    self_->set_exit_handler([this](const caf::exit_msg& msg) {
      for (auto& [group, entry] : groups_)
        self_->send_exit(entry.actor, msg.reason);
      self_->quit(msg.reason);
    });
    return {
      [this](group_atom atom, group_request& r) -> caf::result<caf::message> {
        auto actor = actor_for(r.group);
        if (!actor)
          return make_error(wire::ErrorCode::UNAVAILABLE);
        return self_->delegate(actor, atom, std::move(r));
      },
      [this](group_send_atom atom, group_send& s, uint64_t session, uint64_t ticket) {
        auto actor = actor_for(s.group);
        if (!actor) {
          self_->send(caf::actor_cast<caf::actor>(self_->current_sender()),
                      sent_atom::value, session, ticket,
                      make_error(wire::ErrorCode::UNAVAILABLE));
          return;
        }
        self_->delegate(actor, atom, std::move(s), session, ticket);
      },
      [this](routes_atom atom, routes_ptr& routes) {
        routes_ = routes;
        for (auto& [group, entry] : groups_)
          self_->send(entry.actor, atom, routes);
      },
      [this](idle_atom, const std::string& group, uint64_t received) {
        auto i = groups_.find(group);
        if (i == groups_.end() || i->second.sent != received)
          return;  // a request is on its way: it stays
        log(log_level::debug, "group-directory: group ", group, " idle; its actor stops");
        self_->demonitor(i->second.actor);
        self_->send(i->second.actor, stop_atom::value);
        groups_.erase(i);
      },
      [this](stop_atom) {
        for (auto& [group, entry] : groups_)
          self_->send_exit(entry.actor, caf::exit_reason::user_shutdown);
        groups_.clear();
        return caf::ok_atom::value;
      },
    };
  }

private:
  struct entry {
    caf::actor actor;
    uint64_t sent = 0;  // requests handed to it
  };

  /// The actor of a group homed here (spawned if need be), counting the
  /// request about to be handed to it; an invalid handle if it is not ours.
  caf::actor actor_for(const std::string& group) {
    if (!routes_ || routes_->home_name(group) != routes_->self())
      return {};
    auto i = groups_.find(group);
    if (i == groups_.end()) {
      auto actor = spawn_group(self_->system(), group, store_,
                               caf::actor_cast<caf::actor>(self_), routes_, settings_);
      self_->monitor(actor);
      i = groups_.emplace(group, entry{actor, 0}).first;
    }
    ++i->second.sent;
    return i->second.actor;
  }

  void on_down(const caf::down_msg& msg) {
    for (auto i = groups_.begin(); i != groups_.end(); ++i) {
      if (i->second.actor.address() == msg.source) {
        log(log_level::warning, "group-directory: the actor of group ", i->first,
            " stopped: ", self_->system().render(msg.reason));
        groups_.erase(i);
        return;
      }
    }
  }

  caf::event_based_actor* self_;
  caf::actor store_;
  const node_settings* settings_ = nullptr;
  routes_ptr routes_;
  std::unordered_map<std::string, entry> groups_;
};

using directory_actor = caf::stateful_actor<directory_state>;

caf::behavior directory_impl(directory_actor* self, caf::actor store,
                             const node_settings* settings) {
  return self->state.make_behavior(std::move(store), settings);
}

} // namespace

caf::actor spawn_group_directory(caf::actor_system& sys, caf::actor store,
                                 const node_settings& settings) {
  return sys.spawn(directory_impl, std::move(store), &settings);
}

} // namespace parley
