#include "node/listener.hpp"

#include "actors/log.hpp"
#include "actors/messages.hpp"
#include "actors/session/outgoing.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <unordered_map>

namespace parley {

namespace {

constexpr auto drain_grace = std::chrono::seconds(5);

class listener_state {
public:
  static inline const char* name = "listener";

  explicit listener_state(caf::io::broker* self) : self_(self) {
    // nop
  }

  caf::behavior make_behavior(caf::io::doorman_ptr doorman, routes_ptr routes,
                              node_services services, const node_settings* settings) {
    routes_ = std::move(routes);
    services_ = std::move(services);
    settings_ = settings;
    acceptor_ = doorman->hdl();
    self_->add_doorman(std::move(doorman));
    self_->set_down_handler([this](const caf::down_msg& msg) {
      sessions_.erase(msg.source);
      refusing_ = refusing_ && sessions_.size() >= settings_->max_connections;
      if (stopping_ && sessions_.empty())
        self_->quit();
    });
    return {
      [this](const caf::io::new_connection_msg& msg) {
        if (sessions_.size() >= settings_->max_connections)
          return refuse(msg.handle);
        auto session = fork_session(self_, msg.handle, routes_, services_, settings_);
        self_->monitor(session);
        sessions_.emplace(session.address(), session);
      },
      [](const caf::io::acceptor_closed_msg&) {
        // nop: only stop closes it
      },
      [this](stop_atom) { stop(); },
      [this](routes_atom, routes_ptr& routes) {
        routes_ = std::move(routes);
        for (auto& [addr, session] : sessions_)
          self_->send(session, routes_atom::value, routes_);
      },
      [this](caf::get_atom) { return static_cast<uint64_t>(sessions_.size()); },
      [this](tick_atom) {
        if (!sessions_.empty())
          log(log_level::warning, "listener: ", sessions_.size(),
              " sessions did not stop in time");
        self_->quit();
      },
    };
  }

private:
  /// Over the connection limit: say so and close, without forking a session.
  void refuse(caf::io::connection_handle hdl) {
    if (!refusing_) {
      log(log_level::warning, "listener: at ", settings_->max_connections,
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
    stopping_ = true;
    self_->close(acceptor_);
    log(log_level::info, "listener: stopped accepting; closing ", sessions_.size(),
        " sessions");
    if (sessions_.empty()) {
      self_->quit();
      return;
    }
    for (auto& [addr, session] : sessions_)
      self_->send(session, stop_atom::value);
    self_->delayed_send(self_, drain_grace, tick_atom::value);
  }

  caf::io::broker* self_;
  routes_ptr routes_;
  node_services services_;
  const node_settings* settings_ = nullptr;
  caf::io::accept_handle acceptor_;
  std::unordered_map<caf::actor_addr, caf::actor> sessions_;
  bool stopping_ = false;
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
