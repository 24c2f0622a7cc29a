// The admin actor: what parley-shell talks to, one per node.
//
//   (admin_atom, words) -> std::string, a JSON document; {"error": ...} when the
//                          command cannot be done
//
// Commands (words[0]): nodes, actors [--node N], sessions [--node N] [--user U],
// whois USER, inbox USER, stats [--node N], kick USER, drain NODE,
// loglevel LEVEL [--node N], help. It answers cluster-wide questions by asking
// the other members' admin actors (node_actors.admin in the routes) and the
// homes of the users concerned; a member that does not answer in time is
// reported as such. It holds no state but the routes and the figures of its
// last `stats` (for rates); it stops with the node.
#pragma once

#include "actors/config.hpp"
#include "actors/metrics.hpp"

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace parley {

/// `listener` arrives later as (attach_atom, listener): the admin actor must
/// exist before the membership that lists it. `settings` and `metrics` must
/// outlive it.
caf::actor spawn_admin(caf::actor_system& sys, const node_settings& settings,
                       node_metrics& metrics);

} // namespace parley
