#include "actors/auth/throttle.hpp"

#include "actors/log.hpp"
#include "actors/messages.hpp"
#include "actors/session/token_bucket.hpp"

#include <caf/all.hpp>

#include <unordered_map>

namespace parley {

namespace {

constexpr auto sweep_interval = std::chrono::minutes(1);
constexpr double failure_refill_per_second = 1.0 / 60.0;

class throttle_state {
public:
  static inline const char* name = "throttle";

  explicit throttle_state(caf::event_based_actor* self) : self_(self) {
    // nop
  }

  caf::behavior make_behavior(const node_settings* settings) {
    settings_ = settings;
    self_->delayed_send(self_, sweep_interval, tick_atom::value);
    return {
      [this](login_atom, const std::string& user, const std::string& address,
             const caf::actor& store) -> caf::result<std::string> {
        auto now = token_bucket::clock::now();
        auto wait = address_bucket(address).take(1, now);
        if (auto i = failures_.find(user); wait.count() == 0 && i != failures_.end()) {
          // Only look, on a copy: failures take tokens, logins do not.
          auto probe = i->second;
          wait = probe.take(1, now);
        }
        if (wait.count() > 0)
          return rate_limited(static_cast<uint32_t>(wait.count()));
        // The store answers the session itself: one hop back saved per login.
        self_->delegate(store, user_key_atom::value, user);
        return caf::delegated<std::string>{};
      },
      [this](failed_atom, const std::string& user, const std::string& address) {
        auto i = failures_.find(user);
        if (i == failures_.end())
          i = failures_
                .emplace(user, token_bucket{failure_refill_per_second,
                                            static_cast<double>(settings_->login_failures)})
                .first;
        i->second.take(1);
        log(log_level::info, "throttle: failed login proof for ", user, " from ",
            address);
      },
      [this](tick_atom) {
        auto now = token_bucket::clock::now();
        sweep(addresses_, now);
        sweep(failures_, now);
        self_->delayed_send(self_, sweep_interval, tick_atom::value);
      },
    };
  }

private:
  token_bucket& address_bucket(const std::string& address) {
    auto i = addresses_.find(address);
    if (i == addresses_.end())
      i = addresses_
            .emplace(address, token_bucket{settings_->login_rate,
                                           settings_->login_rate * 10})
            .first;
    return i->second;
  }

  template <class Map>
  static void sweep(Map& buckets, token_bucket::clock::time_point now) {
    for (auto i = buckets.begin(); i != buckets.end();)
      i = i->second.full(now) ? buckets.erase(i) : std::next(i);
  }

  caf::event_based_actor* self_;
  const node_settings* settings_ = nullptr;
  std::unordered_map<std::string, token_bucket> addresses_;
  std::unordered_map<std::string, token_bucket> failures_;
};

using throttle_actor = caf::stateful_actor<throttle_state>;

caf::behavior throttle_impl(throttle_actor* self, const node_settings* settings) {
  return self->state.make_behavior(settings);
}

} // namespace

caf::actor spawn_throttle(caf::actor_system& sys, const node_settings& settings) {
  return sys.spawn(throttle_impl, &settings);
}

} // namespace parley
