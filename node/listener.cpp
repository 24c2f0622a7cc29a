#include "node/listener.hpp"

#include "actors/log.hpp"
#include "actors/messages.hpp"
#include "actors/metrics.hpp"
#include "actors/session/outgoing.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <unordered_map>

namespace parley {

namespace {

constexpr auto drain_grace = std::chrono::seconds(5);

// The listener's own clock: each beat fires the sessions' due timers and sends
// their heartbeats to presence.
using beat_atom = caf::atom_constant<caf::atom("beat")>;

class listener_state {
public:
  static inline const char* name = "listener";

  explicit listener_state(caf::io::broker* self) : self_(self) {
    // nop
  }

  caf::behavior make_behavior(caf::io::doorman_ptr doorman, routes_ptr routes,
                              node_services services, const node_settings* node_wide) {
    routes_ = std::move(routes);
    commons_ = std::make_shared<session_commons>(*node_wide, std::move(services));
    self_->delayed_send(self_, commons_->timers.beat(), beat_atom::value);
    acceptor_ = doorman->hdl();
    self_->add_doorman(std::move(doorman));
    commons_->listener = self_->address();
    return {
      [this](const caf::io::new_connection_msg& msg) {
        if (sessions_.size() >= settings().max_connections)
          return refuse(msg.handle);
        auto session = fork_session(self_, msg.handle, routes_, commons_);
        metrics()->connections.fetch_add(1, std::memory_order_relaxed);
        sessions_.emplace(session.address(), session);
      },
      [this](session_ended_atom, const caf::actor_addr& session) {
        if (sessions_.erase(session) > 0)
          metrics()->connections.fetch_sub(1, std::memory_order_relaxed);
        refusing_ = refusing_ && sessions_.size() >= settings().max_connections;
        if (stopping_ && sessions_.empty())
          self_->quit();
      },
      [](const caf::io::acceptor_closed_msg&) {
        // nop: only stop closes it
      },
      [this](stop_atom) { stop(); },
      [this](drain_atom) {
        drain();
        return caf::ok_atom::value;
      },
      [this](stats_atom) { return session_stats(); },
      [this](routes_atom, routes_ptr& routes) {
        routes_ = std::move(routes);
        for (auto& [addr, session] : sessions_)
          self_->send(session, routes_atom::value, routes_);
      },
      [this](caf::get_atom) { return static_cast<uint64_t>(sessions_.size()); },
      [this](beat_atom) {
        fire_due_timers();
        send_heartbeats();
        self_->delayed_send(self_, commons_->timers.beat(), beat_atom::value);
      },
      [this](tick_atom) {
        if (!sessions_.empty())
          log(log_level::warning, "listener: ", sessions_.size(),
              " sessions did not stop in time");
        self_->quit();
      },
    };
  }

private:
  const node_settings& settings() const noexcept {
    return commons_->settings;
  }

  node_metrics* metrics() const noexcept {
    return commons_->services.metrics;
  }

  /// Over the connection limit: say so and close, without forking a session.
  void refuse(caf::io::connection_handle hdl) {
    if (!refusing_) {
      log(log_level::warning, "listener: at ", settings().max_connections,
          " connections; refusing more");
      refusing_ = true;
    }
    outgoing::error(self_->wr_buf(hdl), wire::ErrorCode::TOO_MANY_CONNECTIONS,
                    "this node is full; try another or later", {}, 1000);
    self_->flush(hdl);
    self_->close(hdl);
  }

  void stop() {
    if (stopping_)
      return;
    drain();
    stopping_ = true;
    if (sessions_.empty()) {
      self_->quit();
      return;
    }
    self_->delayed_send(self_, drain_grace, tick_atom::value);
  }

  /// No new clients, and every connected one told to go elsewhere; the node
  /// keeps serving its users' homes.
  void drain() {
    if (draining_)
      return;
    draining_ = true;
    self_->close(acceptor_);
    log(log_level::info, "listener: stopped accepting; closing ", sessions_.size(),
        " sessions");
    for (auto& [addr, session] : sessions_)
      self_->send(session, stop_atom::value);
  }

  /// Sends each session its due deadline and liveness checks. From this
  /// thread, an enqueue to a session needs no wakeup-pipe write.
  void fire_due_timers() {
    commons_->timers.advance(
      session_timers::clock::now(),
      [this](const caf::actor_addr& addr, session_timers::kind what) {
        auto session = caf::actor_cast<caf::actor>(addr);
        if (!session)
          return;
        if (what == session_timers::kind::tick)
          self_->send(session, tick_atom::value);
        else
          self_->send(session, deadline_atom::value);
      });
  }

  /// One message per presence actor for the heartbeats gathered this beat.
  void send_heartbeats() {
    commons_->beats.flush([this](const caf::actor& presence,
                                 std::vector<std::string>&& users) {
      self_->send(presence, heartbeat_atom::value, std::move(users));
    });
  }

  /// A JSON array of every session's own figures (those that answer in time).
  caf::result<std::string> session_stats() {
    if (sessions_.empty())
      return std::string("[]");
    auto rp = self_->make_response_promise<std::string>();
    struct gathering {
      size_t waiting;
      std::string json = "[";
    };
    auto g = std::make_shared<gathering>(gathering{sessions_.size()});
    auto done = [rp, g]() mutable {
      if (--g->waiting > 0)
        return;
      g->json += "]";
      rp.deliver(std::move(g->json));
    };
    for (auto& [addr, session] : sessions_)
      self_->request(session, std::chrono::seconds(2), stats_atom::value)
        .then(
          [g, done](const std::string& one) mutable {
            if (g->json.size() > 1)
              g->json += ",";
            g->json += one;
            done();
          },
          [done](const caf::error&) mutable { done(); });
    return rp;
  }

  caf::io::broker* self_;
  routes_ptr routes_;
  std::shared_ptr<session_commons> commons_;  // what every session shares, settings included
  caf::io::accept_handle acceptor_;
  std::unordered_map<caf::actor_addr, caf::actor> sessions_;
  bool stopping_ = false;
  bool draining_ = false;
  bool refusing_ = false;  // logged once per spell of refusing
};

using listener_broker = caf::io::stateful_broker<listener_state>;

caf::behavior listener_impl(listener_broker* self, caf::io::doorman_ptr doorman,
                            routes_ptr routes, node_services services,
                            const node_settings* settings) {
  return self->state.make_behavior(std::move(doorman), std::move(routes),
                                   std::move(services), settings);
}

} // namespace

caf::expected<listener_handle> spawn_listener(caf::actor_system& sys,
                                              const routes_ptr& routes,
                                              const node_services& services,
                                              const node_settings& settings) {
  auto& mm = sys.middleman();
  auto doorman = mm.backend().new_tcp_doorman(settings.port, settings.host.c_str(),
                                              true);
  if (!doorman)
    return std::move(doorman.error());
  auto port = (*doorman)->port();
  auto actor = mm.spawn_broker(listener_impl, std::move(*doorman), routes, services,
                               &settings);
  return listener_handle{actor, port};
}

} // namespace parley
