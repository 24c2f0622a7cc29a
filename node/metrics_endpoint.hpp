// The metrics endpoint: Prometheus's text format on GET /metrics over plain
// HTTP/1.1, one answer per connection (Prometheus reconnects per scrape). A
// broker on the middleman's thread: a scrape costs one render of the tally.
//
// It stops with the node (an exit message); it answers 404 to any other path
// and closes connections that send more than a request header's worth.
#pragma once

#include "actors/metrics.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include <cstdint>
#include <string>

namespace parley {

struct endpoint_handle {
  caf::actor actor;
  uint16_t port = 0;  // the bound port
};

/// Listens on host:port (0: any) and serves `metrics`, which must outlive it.
caf::expected<endpoint_handle> spawn_metrics_endpoint(caf::actor_system& sys,
                                                      const std::string& host,
                                                      uint16_t port,
                                                      node_metrics& metrics);

} // namespace parley
