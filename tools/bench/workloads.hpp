// The workloads of issue 9, each a script for the coordinator and one for its
// workers:
//
//   register  registers the users (and writes --keys), nothing else
//   w1        N users log in (connect, login, Ed25519 challenge, welcome):
//             login rate, node RSS growth per logged-in user
//   w2        N users in pairs, each keeping --window sends unanswered for
//             --seconds: delivered/s with both ticks, node CPU per 100,000
//   w3        N users in pairs, --rate messages/s in all at fixed times whatever
//             the answers: latency send -> deliver
//   w4        --count messages from --senders users to one offline user, which
//             then logs in and drains its inbox, acknowledging as it goes
//   w5        w2 against another address (HAProxy in front of a cluster); give
//             the node pids with --node-pid
#pragma once

#include "tools/bench/plan.hpp"
#include "tools/bench/users.hpp"

namespace parley::bench {

/// A run about to start.
struct run_context {
  const plan& p;
  const user_set& users;
  bool need_register = true;  // false: the key file's users are registered
  bool save_keys = false;     // write p.keys_file once registered
};

/// Runs p.workload; prints the results; returns the exit code (0: every
/// check held, 1: a check failed or the run did not finish).
int run_workload(const run_context& ctx);

} // namespace parley::bench
