// The fan-outs of one group in progress: an item (a group message or a notice)
// for many recipients, cut into batches per recipient's home node and handed to
// those nodes' stores as (fanout_atom, group_fanout) requests.
//
// Fairness: a batch holds at most parley.group-fanout-batch recipients and at
// most parley.group-fanout-window batches per node are in flight, so a store
// takes other requests between the batches of a 1,024-member fan-out instead of
// one long stretch of them.
//
// Order: batches to one node leave in the order their fan-outs started, so each
// member's inbox gets a group's items in the group actor's order. CAF may lose
// the tail of a link's stream when it breaks, never its middle, so a batch goes
// out only while every batch in flight to that node used the same link; after a
// failure the batches still queued for that node fail too (their fan-outs are
// retried whole, and the stores deduplicate what had arrived).
//
// A fan-out finishes once: every batch confirmed (with the recipients whose
// inbox was full), or the first failure. The engine belongs to its group actor
// and runs on its thread; it stops with it (answers that come later are
// dropped with the actor).
#pragma once

#include "actors/cluster/routes.hpp"
#include "actors/config.hpp"
#include "actors/group/group_messages.hpp"

#include <caf/error.hpp>
#include <caf/event_based_actor.hpp>

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

namespace parley {

class fanout_engine {
public:
  /// Called once per fan-out: an error, or none and the recipients whose
  /// inbox was full (they do not have the item).
  using done_handler = std::function<void(const caf::error&, std::vector<std::string> full)>;

  fanout_engine(caf::event_based_actor* self, const node_settings* settings)
    : self_(self), settings_(settings) {
    // nop
  }

  void set_routes(routes_ptr routes) {
    routes_ = std::move(routes);
  }

  /// Starts fanning `item` out to `recipients`; `done` is called once.
  void start(const inbox_item& item, const std::vector<std::string>& recipients,
             done_handler done);

  /// Whether no fan-out is in progress.
  bool idle() const noexcept {
    return jobs_.empty();
  }

private:
  struct job {
    size_t batches_left = 0;
    std::vector<std::string> full;
    done_handler done;
  };

  struct batch {
    uint64_t job = 0;
    group_fanout content;
  };

  /// The batches for one member node, in order.
  struct destination {
    std::deque<batch> queue;
    size_t in_flight = 0;
    uint64_t generation = 0;  // of the link the batches in flight went over
  };

  /// Sends what the window and the link allow to `node`.
  void pump(const std::string& node);

  void batch_done(uint64_t job_id, std::vector<std::string> full);

  /// Ends a fan-out with `err`, and every fan-out with a batch still queued for
  /// `node` (those would arrive out of order after the failed one).
  void fail(const std::string& node, uint64_t job_id, const caf::error& err);

  void finish(uint64_t job_id, const caf::error& err);

  caf::event_based_actor* self_;
  const node_settings* settings_;
  routes_ptr routes_;
  uint64_t next_job_ = 1;
  std::unordered_map<uint64_t, job> jobs_;
  std::unordered_map<std::string, destination> destinations_;
};

} // namespace parley
