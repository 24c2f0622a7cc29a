#include "node/listener.hpp"

#include "node/client_sockets.hpp"

#include "actors/log.hpp"
#include "actors/messages.hpp"
#include "actors/metrics.hpp"
#include "actors/session/outgoing.hpp"
#include "schema/errors.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <optional>

namespace parley {

namespace {

// The listener's own clock: each beat runs the sessions' due timers and sends
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
    settings_ = node_wide;
    sessions_.emplace(self_, *node_wide, std::move(services), std::move(routes));
    self_->delayed_send(self_, sessions_->beat(), beat_atom::value);
    acceptor_ = doorman->hdl();
    self_->add_doorman(std::move(doorman));
    return {
      // The commonest first: a connection's data, pushes, then the writes they
      // schedule.
      [this](const caf::io::new_data_msg& msg) { sessions_->on_data(msg); },
      [this](deliver_atom, uint64_t id, const inbox_items& items) {
        sessions_->deliver(id, items);
      },
      [this](sent_atom, uint64_t id, uint64_t ticket, int64_t time) {
        sessions_->sent(id, ticket, time);
      },
      [this](flush_atom) { sessions_->write_scheduled(); },
      [this](const caf::io::data_transferred_msg& msg) { sessions_->on_transferred(msg); },
      [this](const caf::io::new_connection_msg& msg) {
        if (sessions_->size() >= settings_->max_connections)
          return refuse(msg.handle);
        refusing_ = false;
        sessions_->open(msg.handle);
      },
      [this](const caf::io::connection_closed_msg& msg) { sessions_->on_closed(msg.handle); },
      [this](prekeys_low_atom, uint64_t id, uint32_t remaining) {
        sessions_->prekeys_low(id, remaining);
      },
      [this](presence_atom, uint64_t id, const presence_info& info) {
        sessions_->presence(id, info);
      },
      [this](call_atom, uint64_t id, const call_signal& signal) {
        sessions_->call(id, signal);
      },
      [this](sent_atom, uint64_t id, uint64_t ticket, const caf::error& err) {
        sessions_->refused(id, ticket, err);
      },
      [this](kick_atom, uint64_t id, uint8_t code) { sessions_->kick(id, code); },
      [this](stats_atom, uint64_t id) -> caf::result<std::string> {
        if (auto stats = sessions_->stats(id))
          return std::move(*stats);
        return make_error(wire::ErrorCode::UNAVAILABLE);
      },
      [](const caf::io::acceptor_closed_msg&) {
        // nop: only stop closes it
      },
      [this](stop_atom) { stop(); },
      [this](drain_atom) {
        drain();
        return caf::ok_atom::value;
      },
      [this](stats_atom) {
        return "{\"mailbox\":" + std::to_string(self_->mailbox().size())
               + ",\"sessions\":" + sessions_->stats_all() + "}";
      },
      [this](routes_atom, routes_ptr& routes) { sessions_->set_routes(std::move(routes)); },
      [this](beat_atom) {
        sessions_->fire_due_timers();
        sessions_->send_heartbeats();
        self_->delayed_send(self_, sessions_->beat(), beat_atom::value);
      },
    };
  }

private:
  /// Over the connection limit: say so and close, without a session.
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

  /// Sessions close at once (CAF still writes what they leave queued), so the
  /// listener can go right after.
  void stop() {
    drain();
    self_->quit();
  }

  /// No new clients, and every connected one told to go elsewhere; the node
  /// keeps serving its users' homes.
  void drain() {
    if (draining_)
      return;
    draining_ = true;
    self_->close(acceptor_);
    log(log_level::info, "listener: stopped accepting; closing ", sessions_->size(),
        " sessions");
    sessions_->stop_all();
  }

  caf::io::broker* self_;
  const node_settings* settings_ = nullptr;
  std::optional<session_set> sessions_;  // made with the behavior
  caf::io::accept_handle acceptor_;
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
  // CAF's multiplexer for TCP, the only one a node runs with.
  auto& mpx = static_cast<caf::io::network::default_multiplexer&>(mm.backend());
  auto doorman = client_doorman(mpx, settings.port, settings.host);
  if (!doorman)
    return std::move(doorman.error());
  auto port = (*doorman)->port();
  auto actor = mm.spawn_broker(listener_impl, std::move(*doorman), routes, services,
                               &settings);
  return listener_handle{actor, port};
}

} // namespace parley
