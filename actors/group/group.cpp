#include "actors/group/group.hpp"

#include "actors/clock.hpp"
#include "actors/group/fanout.hpp"
#include "actors/group/group_messages.hpp"
#include "actors/log.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <deque>
#include <functional>
#include <optional>
#include <set>
#include <unordered_set>
#include <variant>

namespace parley {

namespace {

using retry_atom = caf::atom_constant<caf::atom("retry")>;

constexpr auto notice_retry = std::chrono::seconds(1);
constexpr size_t max_group_name = 64;

caf::error fail(wire::ErrorCode code) {
  return make_error(code);
}

/// Where the answer to a group send goes: a message to the hub that sent it,
/// not a response (a hub has thousands of sends under way: store.cpp,
/// on_append).
struct send_answer {
  caf::event_based_actor* self = nullptr;
  caf::actor hub;
  uint64_t session = 0;
  uint64_t ticket = 0;

  template <class T>
  void deliver(T&& x) const {
    self->send(hub, sent_atom::value, session, ticket, std::forward<T>(x));
  }
};

/// A request waiting for its turn: a change, answered by `rp`, or a send,
/// answered by `answer`.
struct waiting {
  caf::response_promise rp;
  std::variant<group_request, group_send> request;
  send_answer answer{};

  void fail(const caf::error& err) {
    if (std::holds_alternative<group_send>(request))
      answer.deliver(err);
    else
      rp.deliver(err);
  }
};

class group_state_holder {
public:
  static inline const char* name = "group";

  explicit group_state_holder(caf::event_based_actor* self) : self_(self) {
    // nop
  }

  caf::behavior make_behavior(std::string group, caf::actor store, caf::actor directory,
                              routes_ptr routes, const node_settings* settings) {
    group_ = std::move(group);
    store_ = std::move(store);
    directory_ = std::move(directory);
    settings_ = settings;
    engine_.emplace(self_, settings_);
    engine_->set_routes(routes);
    routes_ = std::move(routes);
    return {
      [this](group_atom, group_request& r) {
        take(waiting{self_->make_response_promise(), std::move(r)});
        return caf::delegated<group_state>();
      },
      [this](group_send_atom, group_send& s, uint64_t session, uint64_t ticket) {
        auto hub = caf::actor_cast<caf::actor>(self_->current_sender());
        take(waiting{{}, std::move(s), send_answer{self_, std::move(hub), session, ticket}});
      },
      [this](routes_atom, routes_ptr& routes) {
        engine_->set_routes(routes);
        routes_ = std::move(routes);
      },
      [this](retry_atom) {
        if (state_)
          for (auto& n : state_->pending)
            send_notice(n);
      },
      [this](idle_atom, uint64_t activity) { on_idle_timer(activity); },
      [this](stop_atom) { self_->quit(); },
    };
  }

private:
  // -- the queue ---------------------------------------------------------------------

  void take(waiting w) {
    ++received_;
    ++activity_;  // restarts the idle period
    queue_.push_back(std::move(w));
    next();
  }

  /// Takes queued requests while no change is being written.
  void next() {
    while (!busy_ && !queue_.empty()) {
      if (!loaded_)
        return load();
      auto w = std::move(queue_.front());
      queue_.pop_front();
      if (auto r = std::get_if<group_request>(&w.request))
        handle(w.rp, *r);
      else
        handle(w.answer, std::get<group_send>(w.request));
    }
    check_idle();
  }

  void load() {
    busy_ = true;
    self_->request(store_, settings_->request_timeout, group_load_atom::value, group_)
      .then(
        [this](group_state& g) {
          state_ = std::move(g);
          loaded();
        },
        [this](const caf::error& err) {
          if (to_wire_code(err) == wire::ErrorCode::UNKNOWN_GROUP) {
            state_.reset();
            return loaded();
          }
          busy_ = false;
          for (auto& w : queue_)
            w.fail(err);
          queue_.clear();
          check_idle();
        });
  }

  void loaded() {
    loaded_ = true;
    busy_ = false;
    // Notices a crash (or a failed write) left unsent go out again.
    if (state_)
      for (auto& n : state_->pending)
        send_notice(n);
    next();
  }

  // -- changes -----------------------------------------------------------------------

  void handle(caf::response_promise& rp, group_request& r) {
    switch (r.what()) {
      case group_op::create:
        return create(rp, r);
      case group_op::query:
        if (!state_)
          return rp.deliver(fail(wire::ErrorCode::UNKNOWN_GROUP));
        if (!state_->find(r.user))
          return rp.deliver(fail(wire::ErrorCode::NOT_GROUP_MEMBER));
        return rp.deliver(view());
      default:
        break;
    }
    if (!state_)
      return rp.deliver(fail(wire::ErrorCode::UNKNOWN_GROUP));
    if (!state_->find(r.user))
      return rp.deliver(fail(wire::ErrorCode::NOT_GROUP_MEMBER));
    if (r.what() == group_op::leave)
      return leave(rp, r.user);
    if (!state_->is_admin(r.user))
      return rp.deliver(fail(wire::ErrorCode::NOT_GROUP_ADMIN));
    switch (r.what()) {
      case group_op::add:
        return add(rp, r);
      case group_op::remove:
        return remove(rp, r);
      case group_op::promote:
        return promote(rp, r);
      default:
        rp.deliver(fail(wire::ErrorCode::UNSUPPORTED));
    }
  }

  void create(caf::response_promise& rp, group_request& r) {
    if (state_) {
      // The same creator asking again: a retried create.
      if (state_->created_by == r.user && state_->name == r.name)
        return rp.deliver(view());
      return rp.deliver(fail(wire::ErrorCode::GROUP_EXISTS));
    }
    if (r.name.empty() || r.name.size() > max_group_name)
      return rp.deliver(fail(wire::ErrorCode::UNSUPPORTED));
    auto others = distinct(r.members, [&](const std::string& m) { return m != r.user; });
    if (others.size() + 1 > settings_->max_group_members)
      return rp.deliver(fail(wire::ErrorCode::GROUP_TOO_LARGE));
    check_known(others, rp, [this, rp, r, others]() mutable {
      group_state g;
      g.group = group_;
      g.name = r.name;
      g.epoch = 0;  // commit makes it 1
      g.created_by = r.user;
      g.created_at = now_ms();
      g.members.push_back(group_member{r.user, true});
      for (auto& m : others)
        g.members.push_back(group_member{m, false});
      state_ = std::move(g);
      // The notice names nobody: every member is concerned (and may query).
      commit(rp, r.user, wire::GroupAction::CREATED, {}, usernames());
    });
  }

  void add(caf::response_promise& rp, group_request& r) {
    auto fresh = distinct(r.members, [&](const std::string& m) { return !state_->find(m); });
    if (fresh.empty())
      return rp.deliver(view());
    if (state_->members.size() + fresh.size() > settings_->max_group_members)
      return rp.deliver(fail(wire::ErrorCode::GROUP_TOO_LARGE));
    check_known(fresh, rp, [this, rp, by = r.user, fresh]() mutable {
      for (auto& m : fresh)
        state_->members.push_back(group_member{m, false});
      commit(rp, by, wire::GroupAction::ADDED, fresh, usernames());
    });
  }

  void remove(caf::response_promise& rp, group_request& r) {
    auto gone = distinct(r.members, [&](const std::string& m) { return state_->find(m); });
    if (gone.empty())
      return rp.deliver(view());
    auto told = usernames();  // the removed hear of it too
    drop(gone);
    commit(rp, r.user, wire::GroupAction::REMOVED, gone, told);
  }

  void leave(caf::response_promise& rp, const std::string& user) {
    auto told = usernames();
    drop({user});
    commit(rp, user, wire::GroupAction::LEFT, {user}, told);
  }

  void promote(caf::response_promise& rp, group_request& r) {
    std::vector<std::string> raised;
    for (auto& m : distinct(r.members, [](const std::string&) { return true; })) {
      auto member = state_->find(m);
      if (member == nullptr)
        return rp.deliver(fail(wire::ErrorCode::NOT_GROUP_MEMBER));
      if (!member->admin)
        raised.push_back(m);
    }
    if (raised.empty())
      return rp.deliver(view());
    for (auto& m : raised)
      state_->find(m)->admin = true;
    commit(rp, r.user, wire::GroupAction::PROMOTED, raised, usernames());
  }

  /// Removes members; a group left without an admin gets its longest-standing
  /// member as one.
  void drop(const std::vector<std::string>& gone) {
    auto& ms = state_->members;
    ms.erase(std::remove_if(ms.begin(), ms.end(),
                            [&](const group_member& m) {
                              return std::find(gone.begin(), gone.end(), m.user)
                                     != gone.end();
                            }),
             ms.end());
    if (!ms.empty() && std::none_of(ms.begin(), ms.end(), [](auto& m) { return m.admin; }))
      ms.front().admin = true;
  }

  /// Writes the changed group with its notice, answers, then tells the members.
  void commit(caf::response_promise rp, const std::string& by, wire::GroupAction action,
              std::vector<std::string> members, std::vector<std::string> recipients) {
    ++state_->epoch;
    pending_notice n{state_->epoch, by, static_cast<uint8_t>(action), std::move(members),
                     std::move(recipients), now_ms()};
    state_->pending.push_back(n);
    busy_ = true;
    self_->request(store_, settings_->request_timeout, group_save_atom::value, *state_)
      .then(
        [this, rp, n](caf::ok_atom) mutable {
          pending_dirty_ = false;
          busy_ = false;
          log(log_level::info, "group ", group_, ": epoch ", n.epoch, " by ", n.by);
          rp.deliver(view());
          send_notice(n);
          next();
        },
        [this, rp](const caf::error& err) mutable {
          // Nothing is known to be written: read the group again before the next
          // request.
          loaded_ = false;
          busy_ = false;
          rp.deliver(err);
          next();
        });
  }

  // -- notices -----------------------------------------------------------------------

  void send_notice(const pending_notice& n) {
    if (!notices_in_flight_.insert(n.epoch).second)
      return;
    inbox_item item;
    item.kind = static_cast<uint8_t>(item_kind::notice);
    item.state = n.action;
    item.peer = n.by;
    item.id = notice_id(n.epoch);
    item.time = n.time;
    item.group = group_;
    item.name = state_->name;
    item.epoch = n.epoch;
    item.members = n.members;
    auto epoch = n.epoch;
    engine_->start(item, n.recipients,
                   [this, epoch](const caf::error& err, std::vector<std::string>) {
                     notices_in_flight_.erase(epoch);
                     if (err) {
                       log(log_level::warning, "group ", group_, ": notice ", epoch,
                           " not delivered yet: ", self_->system().render(err));
                       self_->delayed_send(self_, notice_retry, retry_atom::value);
                       return;
                     }
                     // In every inbox: forget it (written with the next change,
                     // or before this actor stops).
                     auto& p = state_->pending;
                     p.erase(std::remove_if(p.begin(), p.end(),
                                            [&](auto& x) { return x.epoch == epoch; }),
                             p.end());
                     pending_dirty_ = true;
                     check_idle();
                   });
  }

  // -- messages ----------------------------------------------------------------------

  void handle(const send_answer& answer, group_send& s) {
    if (!state_)
      return answer.deliver(fail(wire::ErrorCode::UNKNOWN_GROUP));
    bool member = state_->find(s.from) != nullptr;
    // Only a retransmission may pass otherwise: the ledger knows it.
    bool create = member && s.epoch == state_->epoch;
    group_message_entry entry;
    if (create) {
      entry.time = now_ms();
      for (auto& m : state_->members)
        if (m.user != s.from)
          entry.recipients.push_back(m.user);
    }
    ++sends_in_flight_;
    auto refusal = member ? wire::ErrorCode::STALE_GROUP : wire::ErrorCode::NOT_GROUP_MEMBER;
    self_->request(store_, settings_->request_timeout, ledger_atom::value, group_, s.from,
                   s.id, create, std::move(entry))
      .then(
        [this, answer, s](group_message_entry& e) mutable {
          inbox_item item;
          item.kind = static_cast<uint8_t>(item_kind::message);
          item.peer = s.from;
          item.id = s.id;
          item.payload = std::move(s.payload);
          item.time = e.time;
          item.group = group_;
          auto time = e.time;
          engine_->start(item, e.recipients,
                         [this, answer, time](const caf::error& err,
                                              std::vector<std::string> full) mutable {
                           --sends_in_flight_;
                           if (err)
                             answer.deliver(err);
                           else if (!full.empty())
                             answer.deliver(fail(wire::ErrorCode::INBOX_FULL));
                           else
                             answer.deliver(time);
                           check_idle();
                         });
        },
        [this, answer, refusal](const caf::error& err) mutable {
          --sends_in_flight_;
          answer.deliver(to_wire_code(err) == wire::ErrorCode::UNKNOWN_MESSAGE
                           ? fail(refusal)
                           : err);
          check_idle();
        });
  }

  // -- helpers -----------------------------------------------------------------------

  /// The group as members see it.
  group_state view() const {
    auto g = *state_;
    g.pending.clear();
    return g;
  }

  std::vector<std::string> usernames() const {
    std::vector<std::string> out;
    out.reserve(state_->members.size());
    for (auto& m : state_->members)
      out.push_back(m.user);
    return out;
  }

  /// The names of `names` for which `keep` holds, each once, in order.
  template <class Pred>
  static std::vector<std::string> distinct(const std::vector<std::string>& names, Pred keep) {
    std::vector<std::string> out;
    std::unordered_set<std::string> seen;
    for (auto& n : names)
      if (keep(n) && seen.insert(n).second)
        out.push_back(n);
    return out;
  }

  /// Asks the home store of each user whether it is registered, then runs
  /// `then`; answers `rp` with unknownUser or unavailable instead. The group
  /// takes no other request meanwhile.
  void check_known(const std::vector<std::string>& users, caf::response_promise rp,
                   std::function<void()> then) {
    if (!routes_)
      return rp.deliver(fail(wire::ErrorCode::UNAVAILABLE));
    std::unordered_map<std::string, std::vector<std::string>> by_node;
    for (auto& u : users)
      by_node[routes_->home_name(u)].push_back(u);
    if (by_node.empty())
      return then();
    for (auto& entry : by_node)
      if (routes_->link(entry.first) == nullptr)
        return rp.deliver(fail(wire::ErrorCode::UNAVAILABLE));
    struct tally {
      size_t left;
      bool failed = false;
      std::vector<std::string> unknown;
    };
    auto t = std::make_shared<tally>(tally{by_node.size(), false, {}});
    busy_ = true;
    auto finish = [this, t, rp, then]() mutable {
      if (--t->left > 0)
        return;
      busy_ = false;
      if (t->failed)
        rp.deliver(fail(wire::ErrorCode::UNAVAILABLE));
      else if (!t->unknown.empty())
        rp.deliver(fail(wire::ErrorCode::UNKNOWN_USER));
      else
        then();
      next();
    };
    for (auto& [node, names] : by_node) {
      auto link = routes_->link(node);
      self_->request(link->actors.store, settings_->request_timeout,
                     known_users_atom::value, names)
        .then(
          [t, finish](std::vector<std::string>& unknown) mutable {
            t->unknown.insert(t->unknown.end(), unknown.begin(), unknown.end());
            finish();
          },
          [t, finish](const caf::error&) mutable {
            t->failed = true;
            finish();
          });
    }
  }

  // -- stopping when idle --------------------------------------------------------------

  bool idle() const {
    return queue_.empty() && !busy_ && engine_->idle() && sends_in_flight_ == 0
           && notices_in_flight_.empty() && (!state_ || state_->pending.empty());
  }

  /// Arms the idle timer if nothing is in progress (one timer at a time: a
  /// busy group does not pile them up).
  void check_idle() {
    if (!idle() || timer_armed_)
      return;
    timer_armed_ = true;
    // An actor for a group that does not exist (a query or send with a made-up
    // id) goes at once rather than linger for the idle timeout.
    auto wait = state_ ? settings_->group_idle_timeout : caf::timespan{0};
    self_->delayed_send(self_, wait, idle_atom::value, activity_);
  }

  void on_idle_timer(uint64_t activity) {
    timer_armed_ = false;
    if (activity != activity_)
      return check_idle();  // something happened meanwhile: a full period again
    if (!idle())
      return;  // armed again once it is
    if (pending_dirty_ && state_) {
      // Write the forgotten notices away first; a failure only means they are
      // sent again (and deduplicated) by the next actor of this group.
      busy_ = true;
      self_->request(store_, settings_->request_timeout, group_save_atom::value, *state_)
        .then(
          [this](caf::ok_atom) {
            pending_dirty_ = false;
            busy_ = false;
            next();
          },
          [this](const caf::error&) {
            busy_ = false;
            next();
          });
      return;
    }
    self_->send(directory_, idle_atom::value, group_, received_);
  }

  // -- state -------------------------------------------------------------------------

  caf::event_based_actor* self_;
  std::string group_;
  caf::actor store_;
  caf::actor directory_;
  routes_ptr routes_;
  const node_settings* settings_ = nullptr;
  std::optional<fanout_engine> engine_;

  bool loaded_ = false;
  bool busy_ = false;                 // loading, or a change being checked or written
  std::optional<group_state> state_;  // none: no such group (yet)
  bool pending_dirty_ = false;        // notices delivered but still in the record
  std::deque<waiting> queue_;
  std::set<uint64_t> notices_in_flight_;
  size_t sends_in_flight_ = 0;
  uint64_t received_ = 0;  // requests, for the directory's idle check
  uint64_t activity_ = 0;  // changes whenever a request comes
  bool timer_armed_ = false;
};

using group_actor = caf::stateful_actor<group_state_holder>;

caf::behavior group_impl(group_actor* self, std::string group, caf::actor store,
                         caf::actor directory, routes_ptr routes,
                         const node_settings* settings) {
  return self->state.make_behavior(std::move(group), std::move(store),
                                   std::move(directory), std::move(routes), settings);
}

} // namespace

caf::actor spawn_group(caf::actor_system& sys, std::string group, caf::actor store,
                       caf::actor directory, routes_ptr routes,
                       const node_settings* settings) {
  return sys.spawn(group_impl, std::move(group), std::move(store), std::move(directory),
                   std::move(routes), settings);
}

} // namespace parley
