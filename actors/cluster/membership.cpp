#include "actors/cluster/membership.hpp"

#include "actors/cluster/links.hpp"
#include "actors/cluster/routes.hpp"
#include "actors/log.hpp"
#include "schema/rules.hpp"

#include <caf/all.hpp>

#include <unordered_map>

namespace parley {

namespace {

using redial_atom = caf::atom_constant<caf::atom("redial")>;

constexpr auto redial_interval = std::chrono::seconds(1);

struct peer_state {
  caf::actor membership;  // the peer's membership actor, while linked
  node_actors actors;
  uint64_t generation = 0;
  bool dialling = false;
  std::string last_failure;  // to log a failure once, not every second
};

class membership_state {
public:
  static inline const char* name = "membership";

  explicit membership_state(caf::event_based_actor* self) : self_(self) {
    // nop
  }

  caf::behavior make_behavior(cluster_config config, node_actors local, int listen_fd) {
    config_ = std::move(config);
    local_ = std::move(local);
    for (auto& m : config_.members) {
      names_.push_back(m.name);
      if (m.name != config_.self)
        peers_.emplace(m.name, peer_state{});
    }
    if (names_.empty())
      names_.push_back(config_.self);
    self_->set_down_handler([this](const caf::down_msg& msg) { on_down(msg); });
    if (listen_fd >= 0) {
      auto me = std::find_if(config_.members.begin(), config_.members.end(),
                             [&](auto& m) { return m.name == config_.self; });
      gate_ = spawn_gate(self_->system(), listen_fd, me->port, links(),
                         caf::actor_cast<caf::actor>(self_));
      for (auto& [name, peer] : peers_)
        if (config_.self < name)
          dial(name);
    }
    publish();
    return {
      [this](hello_atom, const std::string& peer, node_actors& actors) {
        return on_hello(peer, std::move(actors));
      },
      [this](connected_atom, const std::string& peer, const caf::actor& remote) {
        on_connected(peer, remote);
      },
      [this](link_failed_atom, const std::string& peer, const std::string& why) {
        on_link_failed(peer, why);
      },
      [this](redial_atom, const std::string& peer) {
        if (auto i = peers_.find(peer); i != peers_.end() && !i->second.membership)
          dial(peer);
      },
      [this](caf::get_atom) { return routes_; },
      [this](stats_atom) {
        return "{\"mailbox\":" + std::to_string(self_->mailbox().size()) + "}";
      },
      [this](subscribe_atom, const caf::actor& subscriber) {
        subscribers_.push_back(subscriber);
        self_->send(subscriber, routes_atom::value, routes_);
      },
      [this](stop_atom) -> caf::result<caf::ok_atom> {
        if (!gate_)
          return caf::ok_atom::value;
        auto rp = self_->make_response_promise<caf::ok_atom>();
        self_->request(gate_, std::chrono::seconds(5), stop_atom::value)
          .then([rp](caf::ok_atom) mutable { rp.deliver(caf::ok_atom::value); },
                [rp](caf::error&) mutable { rp.deliver(caf::ok_atom::value); });
        gate_ = nullptr;
        return rp;
      },
    };
  }

private:
  link_config links() const {
    return link_config{config_.self, names_, config_.secret, std::chrono::seconds(2)};
  }

  void dial(const std::string& peer) {
    auto& state = peers_[peer];
    if (state.dialling)
      return;
    state.dialling = true;
    auto m = std::find_if(config_.members.begin(), config_.members.end(),
                          [&](auto& x) { return x.name == peer; });
    spawn_connector(self_->system(), peer, m->host, m->port, links(),
                    caf::actor_cast<caf::actor>(self_));
  }

  void on_connected(const std::string& peer, const caf::actor& remote) {
    self_->request(remote, std::chrono::seconds(5), hello_atom::value, config_.self,
                   local_)
      .then(
        [this, peer, remote](node_actors& actors) {
          peers_[peer].dialling = false;
          link_up(peer, remote, std::move(actors));
        },
        [this, peer](const caf::error& err) {
          on_link_failed(peer, "no hello answer: " + self_->system().render(err));
        });
  }

  node_actors on_hello(const std::string& peer, node_actors actors) {
    auto sender = caf::actor_cast<caf::actor>(self_->current_sender());
    if (peers_.count(peer) == 0 || !sender) {
      log(log_level::warning, "cluster: hello from unknown member '", peer, "'");
      return {};
    }
    link_up(peer, sender, std::move(actors));
    return local_;
  }

  void link_up(const std::string& peer, const caf::actor& remote, node_actors actors) {
    auto& state = peers_[peer];
    if (state.membership && state.membership != remote)
      self_->demonitor(state.membership);
    state.membership = remote;
    state.actors = std::move(actors);
    state.generation = ++generations_;
    state.last_failure.clear();
    self_->monitor(remote);
    log(log_level::info, "cluster: ", peer, " is up");
    publish();
  }

  void on_link_failed(const std::string& peer, const std::string& why) {
    auto& state = peers_[peer];
    state.dialling = false;
    if (why != state.last_failure) {
      log(log_level::warning, "cluster: cannot reach ", peer, ": ", why);
      state.last_failure = why;
    }
    self_->delayed_send(self_, redial_interval, redial_atom::value, peer);
  }

  void on_down(const caf::down_msg& msg) {
    for (auto& [peer, state] : peers_) {
      if (state.membership && state.membership.address() == msg.source) {
        state.membership = nullptr;
        state.actors = node_actors{};
        log(log_level::warning, "cluster: ", peer, " is down");
        publish();
        if (config_.self < peer)
          dial(peer);
        return;
      }
    }
  }

  void publish() {
    std::unordered_map<std::string, member_link> up;
    up.emplace(config_.self, member_link{local_, 0});
    for (auto& [peer, state] : peers_)
      if (state.membership)
        up.emplace(peer, member_link{state.actors, state.generation});
    routes_ = std::make_shared<const routes>(config_.self, names_, std::move(up));
    for (auto& subscriber : subscribers_)
      self_->send(subscriber, routes_atom::value, routes_);
  }

  caf::event_based_actor* self_;
  cluster_config config_;
  node_actors local_;
  std::vector<std::string> names_;
  std::unordered_map<std::string, peer_state> peers_;
  uint64_t generations_ = 0;
  caf::actor gate_;
  routes_ptr routes_;
  std::vector<caf::actor> subscribers_;
};

using membership_actor = caf::stateful_actor<membership_state>;

caf::behavior membership_impl(membership_actor* self, cluster_config config,
                              node_actors local, int listen_fd) {
  return self->state.make_behavior(std::move(config), std::move(local), listen_fd);
}

} // namespace

caf::expected<member_address> parse_member(const std::string& text) {
  auto at = text.find('@');
  auto colon = text.rfind(':');
  if (at == std::string::npos || colon == std::string::npos || colon < at)
    return caf::make_error(caf::sec::invalid_argument,
                           "member '" + text + "' is not name@host:port");
  member_address m;
  m.name = text.substr(0, at);
  m.host = text.substr(at + 1, colon - at - 1);
  auto port = text.substr(colon + 1);
  if (!valid_user_name(m.name) || m.host.empty() || port.empty()
      || port.find_first_not_of("0123456789") != std::string::npos
      || std::stoul(port) == 0 || std::stoul(port) > 65535)
    return caf::make_error(caf::sec::invalid_argument,
                           "member '" + text + "' is not name@host:port");
  m.port = static_cast<uint16_t>(std::stoul(port));
  return m;
}

caf::expected<caf::actor> spawn_membership(caf::actor_system& sys,
                                           const cluster_config& config,
                                           const node_actors& local) {
  int listen_fd = -1;
  if (!config.members.empty()) {
    auto me = std::find_if(config.members.begin(), config.members.end(),
                           [&](auto& m) { return m.name == config.self; });
    if (me == config.members.end())
      return caf::make_error(caf::sec::invalid_argument,
                             "this node's name '" + config.self
                               + "' is not among the members");
    auto fd = open_peer_listener(me->host, me->port);
    if (!fd)
      return std::move(fd.error());
    listen_fd = *fd;
  }
  return sys.spawn(membership_impl, config, local, listen_fd);
}

} // namespace parley
