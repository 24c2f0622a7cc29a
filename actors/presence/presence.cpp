#include "actors/presence/presence.hpp"

#include "actors/clock.hpp"
#include "actors/messages.hpp"
#include "actors/session/session_ref.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace parley {

namespace {

/// Last-seen times go to the store in slices, one every few milliseconds,
/// spread over half the flush interval: every message waits behind a slice's
/// RocksDB inserts (≈ 6 µs each in a W3 profile), so 10,000 online users' times
/// in one batch held the store for tens of milliseconds, and slices of 256
/// still held a message for up to 1.5 ms (W3's p99 at 5,000 /s).
constexpr auto last_seen_slice_gap = std::chrono::milliseconds(2);

/// Users per slice so that `users` are sent within half of `interval`.
size_t last_seen_slice(size_t users, caf::timespan interval) {
  auto slices = std::max<int64_t>(1, (interval / 2) / last_seen_slice_gap);
  return std::max<size_t>(1, (users + slices - 1) / static_cast<size_t>(slices));
}

using slice_atom = caf::atom_constant<caf::atom("lsslice")>;

class presence_state {
public:
  static inline const char* name = "presence";

  explicit presence_state(caf::event_based_actor* self) : self_(self) {
    // nop
  }

  caf::behavior make_behavior(caf::actor store, const node_settings* settings) {
    store_ = std::move(store);
    settings_ = settings;
    self_->set_down_handler([this](const caf::down_msg& msg) { hub_down(msg.source); });
    self_->set_exit_handler([this](const caf::exit_msg& msg) {
      flush_all();
      self_->quit(msg.reason);
    });
    self_->delayed_send(self_, settings_->presence_flush_interval, flush_atom::value);
    return {
      [this](online_atom, const std::string& user) {
        set_online(user, true);
        touch(user);
        notify(user, true);
      },
      [this](offline_atom, const std::string& user) {
        set_online(user, false);
        // Its time goes to the store now, not with the next flush.
        auto& entry = users_[user];
        entry.last_seen = now_ms();
        entry.dirty = false;
        self_->send(store_, last_seen_atom::value,
                    last_seen_batch{{user, entry.last_seen}});
        notify(user, false);
      },
      [this](heartbeat_atom, const std::vector<std::string>& users) {
        for (auto& user : users)
          if (is_online(user))
            touch(user);
      },
      [this](last_seen_atom, const std::string& user) { return query(user); },
      [this](stats_atom) {
        return "{\"mailbox\":" + std::to_string(self_->mailbox().size())
               + ",\"online\":" + std::to_string(online_count_)
               + ",\"watched\":" + std::to_string(watchers_.size()) + "}";
      },
      [this](watch_atom, const std::string& user, const session_ref& session) {
        if (watchers_[user].insert(session).second) {
          watched_by_[session].push_back(user);
          hubs_.watch(self_, session);
        }
      },
      [this](session_ended_atom, const session_ref& session) { unwatch(session); },
      [this](stop_atom) {
        flush_all();
        return caf::ok_atom::value;
      },
      [this](flush_atom) {
        start_flush();
        self_->delayed_send(self_, settings_->presence_flush_interval,
                            flush_atom::value);
      },
      [this](slice_atom) { send_slice(); },
    };
  }

private:
  void touch(const std::string& user) {
    auto& entry = users_[user];
    entry.last_seen = now_ms();
    entry.dirty = true;
  }

  caf::result<presence_info> query(const std::string& user) {
    if (auto i = users_.find(user); i != users_.end())
      return i->second.online ? presence_info{user, true, now_ms()}
                              : presence_info{user, false, i->second.last_seen};
    auto rp = self_->make_response_promise<presence_info>();
    self_->request(store_, settings_->request_timeout, last_seen_atom::value, user)
      .then([rp, user](int64_t time) mutable {
              rp.deliver(presence_info{user, false, time});
            },
            [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
    return rp;
  }

  void notify(const std::string& user, bool online) {
    auto i = watchers_.find(user);
    if (i == watchers_.end())
      return;
    presence_info info{user, online, users_[user].last_seen};
    for (auto& session : i->second)
      session.tell(self_, presence_atom::value, info);
  }

  void unwatch(const session_ref& session) {
    auto i = watched_by_.find(session);
    if (i == watched_by_.end())
      return;
    for (auto& user : i->second) {
      auto j = watchers_.find(user);
      if (j == watchers_.end())
        continue;
      j->second.erase(session);
      if (j->second.empty())
        watchers_.erase(j);
    }
    watched_by_.erase(i);
  }

  /// A hub stopped or its member was lost: its sessions watch no more.
  void hub_down(const caf::actor_addr& hub) {
    if (!hubs_.gone(hub))
      return;
    std::vector<session_ref> gone;
    for (auto& [session, users] : watched_by_)
      if (session.hub.address() == hub)
        gone.push_back(session);
    for (auto& session : gone)
      unwatch(session);
  }

  /// Starts sending the changed times in slices (send_slice); each slice
  /// takes the times current when it leaves.
  void start_flush() {
    bool round_under_way = !to_flush_.empty();
    to_flush_.clear();
    for (auto& entry : users_)
      if (entry.second.dirty)
        to_flush_.push_back(&entry);
    slice_ = last_seen_slice(to_flush_.size(), settings_->presence_flush_interval);
    forget_offline();
    if (!round_under_way)
      send_slice();
  }

  void send_slice() {
    last_seen_batch batch;
    while (!to_flush_.empty() && batch.size() < slice_) {
      auto& [user, entry] = *to_flush_.back();
      to_flush_.pop_back();
      if (entry.dirty) {  // not sent by an offline message meanwhile
        entry.dirty = false;
        batch.emplace_back(user, entry.last_seen);
      }
    }
    if (!batch.empty())
      self_->send(store_, last_seen_atom::value, std::move(batch));
    if (!to_flush_.empty())
      self_->delayed_send(self_, last_seen_slice_gap, slice_atom::value);
  }

  /// Everything at once: the node is stopping.
  void flush_all() {
    to_flush_.clear();
    last_seen_batch batch;
    for (auto& [user, entry] : users_) {
      if (entry.dirty) {
        entry.dirty = false;
        batch.emplace_back(user, entry.last_seen);
      }
    }
    if (!batch.empty())
      self_->send(store_, last_seen_atom::value, std::move(batch));
    forget_offline();
  }

  /// Offline users' times are in the store; keep only the online ones. Only
  /// online users are dirty (an offline message sends its time at once), so
  /// no entry in to_flush_ goes.
  void forget_offline() {
    for (auto i = users_.begin(); i != users_.end();) {
      if (!i->second.online)
        i = users_.erase(i);
      else
        ++i;
    }
  }

  bool is_online(const std::string& user) const {
    auto i = users_.find(user);
    return i != users_.end() && i->second.online;
  }

  void set_online(const std::string& user, bool online) {
    auto& entry = users_[user];
    if (entry.online == online)
      return;
    entry.online = online;
    if (online)
      ++online_count_;
    else
      --online_count_;
  }

  caf::event_based_actor* self_;
  caf::actor store_;
  const node_settings* settings_ = nullptr;
  /// A user's last seen time (ms since the epoch), whether online, and
  /// whether the time changed since it was last sent: one table, not a set of
  /// the online, a table of times and a set of the changed, so one entry per
  /// online user (docs/BENCHMARKS.md, rows 37 and 40).
  struct seen {
    int64_t last_seen = 0;
    bool online = false;
    bool dirty = false;
  };
  using user_table = std::unordered_map<std::string, seen>;
  /// The online, and those offline whose time has not reached the store yet.
  /// Its elements stay where they are until erased, so to_flush_ may point
  /// at them.
  user_table users_;
  size_t online_count_ = 0;
  std::vector<user_table::value_type*> to_flush_;  // this round's, not yet sent
  size_t slice_ = 1;                        // this round's users per slice
  std::unordered_map<std::string, std::unordered_set<session_ref, session_ref_hash>>
    watchers_;
  std::unordered_map<session_ref, std::vector<std::string>, session_ref_hash> watched_by_;
  hub_monitors hubs_;
};

using presence_actor = caf::stateful_actor<presence_state>;

caf::behavior presence_impl(presence_actor* self, caf::actor store,
                            const node_settings* settings) {
  return self->state.make_behavior(std::move(store), settings);
}

} // namespace

caf::actor spawn_presence(caf::actor_system& sys, const caf::actor& store,
                          const node_settings& settings) {
  return sys.spawn(presence_impl, store, &settings);
}

} // namespace parley
