#include "node/node.hpp"

#include "actors/auth/verifier.hpp"
#include "actors/log.hpp"
#include "actors/messages.hpp"
#include "actors/presence/presence.hpp"
#include "actors/registry/registry.hpp"
#include "actors/store/store.hpp"
#include "node/listener.hpp"

#include <caf/all.hpp>

#include <thread>

namespace parley {

node::node(caf::actor_system& sys, const node_settings& settings)
  : sys_(sys), settings_(settings) {
  // nop
}

node::~node() {
  stop();
}

std::string node::start() {
  std::string error;
  auto db = database::open(settings_.data_dir, false, error);
  if (!db)
    return "cannot open the store in " + settings_.data_dir + ": " + error;
  actors_.store = spawn_store(sys_, std::move(db), settings_);
  actors_.presence = spawn_presence(sys_, actors_.store, settings_);
  actors_.registry = spawn_registry(sys_, actors_.presence);
  actors_.verifier = spawn_verifier_pool(
    sys_, std::max(1u, std::thread::hardware_concurrency()));
  running_ = true;
  auto listener = spawn_listener(sys_, actors_, settings_);
  if (!listener) {
    stop();
    return "cannot listen on " + settings_.host + ":" + std::to_string(settings_.port)
           + ": " + sys_.render(listener.error());
  }
  listener_ = listener->actor;
  port_ = listener->port;
  log(log_level::info, "node: listening on ", settings_.host, ":", port_,
      ", data in ", settings_.data_dir);
  return {};
}

void node::stop() {
  if (!running_)
    return;
  running_ = false;
  caf::scoped_actor self{sys_};
  auto wait_for = [&](const caf::actor& actor) {
    self->monitor(actor);
    self->receive([](const caf::down_msg&) {});
  };
  if (listener_) {
    self->send(listener_, stop_atom::value);
    wait_for(listener_);
  }
  // Presence hands its last-seen times to the store, then the store writes all.
  auto finish = [&](const caf::actor& actor) {
    self->request(actor, caf::infinite, stop_atom::value)
      .receive([](caf::ok_atom) {},
               [&](const caf::error& err) {
                 log(log_level::error, "node: stopping failed: ", sys_.render(err));
               });
  };
  finish(actors_.presence);
  finish(actors_.store);
  for (auto& actor : {actors_.registry, actors_.presence, actors_.verifier,
                      actors_.store}) {
    self->send_exit(actor, caf::exit_reason::user_shutdown);
    wait_for(actor);
  }
  listener_ = nullptr;
  actors_ = node_actors{};
  log(log_level::info, "node: stopped");
}

} // namespace parley
