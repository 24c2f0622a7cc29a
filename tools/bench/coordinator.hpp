// The coordinating process of a run: it forks one worker per slice of users,
// moves them through the workload's phases together (barriers), watches the
// node through /proc meanwhile, prints the progress line, and merges what the
// workers report.
//
// Workers arrive at a barrier with their figures and keep serving their
// connections until the coordinator says go, so a phase can start at the same
// instant in every process (CLOCK_MONOTONIC is the machine's, not the process's).
#pragma once

#include "tools/bench/control.hpp"
#include "tools/bench/driver.hpp"
#include "tools/bench/plan.hpp"
#include "tools/bench/proc.hpp"
#include "tools/bench/stats.hpp"
#include "tools/bench/users.hpp"

#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace parley::bench {

/// The slices a run of `users` connections needs: one per max_per_process (or
/// plan.procs), each with its own 127.0.0.x source when the node is on loopback.
std::vector<slice> make_slices(const plan& p, size_t users);

class coordinator {
public:
  /// A worker's script; its return value is the worker's exit code.
  using script = std::function<int(driver&)>;

  coordinator(const plan& p, const user_set& users);
  ~coordinator();

  coordinator(const coordinator&) = delete;
  coordinator& operator=(const coordinator&) = delete;

  /// Forks a worker per slice, each running `work`. False if one cannot start.
  bool start(const std::vector<slice>& slices, const script& work);

  /// Waits until every worker arrived at `phase`; their figures, merged.
  /// Nothing if a worker failed or died (see failure()).
  std::optional<report> wait_all(const std::string& phase);

  /// Lets every worker leave the barrier of `phase`, with `args`.
  bool go_all(const std::string& phase, const std::string& args = {});

  /// Serves the workers (progress, node samples) until `until_ns`.
  bool idle_until(int64_t until_ns);

  /// Waits for every worker's final report and reaps them; merged figures.
  std::optional<report> collect();

  /// Tells every worker to stop; used after a failure.
  void abort_all();

  /// Names the phase on the progress line and restarts its clock.
  void set_phase(const std::string& label);

  // -- the node and the bench, from /proc ------------------------------------------

  bool node_known() const noexcept {
    return !plan_.node_pids.empty();
  }
  proc_sample node_now() const;
  /// The largest node RSS seen since reset_peak, sampled every 100 ms.
  uint64_t peak_rss_kb() const noexcept {
    return peak_rss_kb_;
  }
  void reset_peak();

  /// CPU seconds of this process and its workers so far.
  double bench_cpu_now();

  const std::string& failure() const noexcept {
    return failure_;
  }
  const std::vector<std::string>& notes() const noexcept {
    return notes_;
  }

private:
  struct worker {
    pid_t pid = -1;
    control_channel channel;
    report progress;
    // Phases it arrived at and not yet waited for, oldest first, with its
    // figures: a worker may pass two before the coordinator reads either.
    std::deque<std::pair<std::string, report>> arrivals;
    bool has_result = false;
    report result;
    bool open = true;
    double cpu_seconds = 0;  // last read from /proc
  };

  /// Serves until `done` holds or `until_ns` (0: none) passes; false on failure.
  bool serve(const std::function<bool()>& done, int64_t until_ns);
  void on_line(worker& w, const std::string& line);
  void sample(int64_t now);
  void print_progress(int64_t now);

  const plan& plan_;
  const user_set& users_;
  std::vector<worker> workers_;
  std::string failure_;
  std::vector<std::string> notes_;

  std::string phase_;
  int64_t phase_start_ns_ = 0;
  int64_t next_sample_ns_ = 0;
  int64_t next_print_ns_ = 0;
  uint64_t peak_rss_kb_ = 0;
  bool tty_ = false;
  bool line_open_ = false;  // a progress line without its newline yet

  // The previous progress print, for rates.
  int64_t last_print_ns_ = 0;
  report last_counts_;
  double last_node_cpu_ = 0;
  double last_bench_cpu_ = 0;
};

} // namespace parley::bench
