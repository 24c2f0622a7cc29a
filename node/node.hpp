// A parley node: its store, presence, registry, verifier pool, membership and
// listener, started in dependency order and stopped in reverse so nothing
// acknowledged is left unwritten.
#pragma once

#include "actors/config.hpp"
#include "actors/messages.hpp"
#include "actors/metrics.hpp"
#include "actors/session/session.hpp"

#include <caf/actor_system.hpp>

#include <string>

namespace parley {

class node {
public:
  node(caf::actor_system& sys, const node_settings& settings);

  ~node();

  /// Opens the store, joins the cluster (if members are configured) and starts
  /// listening. Returns an error text on failure.
  std::string start();

  /// Stops accepting, closes every session, writes what is pending, and stops
  /// every actor. Safe to call twice.
  void stop();

  /// The port clients connect to (the bound one when the setting was 0).
  uint16_t port() const noexcept {
    return port_;
  }

  uint16_t admin_port() const noexcept {
    return admin_port_;
  }

  uint16_t metrics_port() const noexcept {
    return metrics_port_;
  }

private:
  caf::actor_system& sys_;
  const node_settings& settings_;
  node_actors actors_;
  node_services services_;
  node_metrics metrics_;
  caf::actor membership_;
  caf::actor listener_;
  caf::actor metrics_endpoint_;
  caf::actor admin_port_actor_;
  uint16_t port_ = 0;
  uint16_t admin_port_ = 0;
  uint16_t metrics_port_ = 0;
  bool running_ = false;
};

} // namespace parley
