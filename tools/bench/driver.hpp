// A load-generating worker: one epoll loop over many non-blocking connections
// to the node, acting as a slice of the run's users.
//
// It speaks the client protocol itself (registration, the Ed25519 login, sends,
// acknowledgements, heartbeats) and keeps the books of every message: a message
// counts as delivered once, as sent-ticked once and as delivered-ticked once;
// anything received twice is a duplicate (redelivered, if the first came before
// the node closed the user's connection: the bench logs in again, as a client
// would), anything sent and never received is lost. Output is batched per wakeup: whatever the frames of one epoll_wait
// return cause is written with one send() per connection, acknowledgements of
// one peer go in one frame.
//
// Workload scripts call its phases (register_users, login, barrier, sending
// modes, run_until); each runs the loop until it is done, serving everything
// else meanwhile.
#pragma once

#include "schema/frame.hpp"
#include "tools/bench/control.hpp"
#include "tools/bench/plan.hpp"
#include "tools/bench/stats.hpp"
#include "tools/bench/users.hpp"
#include "tools/bench/wire.hpp"

#include <capnp/common.h>

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string_view>
#include <string>
#include <unordered_map>
#include <vector>

namespace parley::bench {

class driver {
public:
  driver(const plan& p, const user_set& users, const slice& s, control_channel& control);
  ~driver();

  driver(const driver&) = delete;
  driver& operator=(const driver&) = delete;

  /// False if the loop could not be set up (see failure()).
  bool ok() const noexcept {
    return failure_.empty();
  }
  const std::string& failure() const noexcept {
    return failure_;
  }
  bool aborted() const noexcept {
    return aborted_;
  }

  const slice& my_slice() const noexcept {
    return slice_;
  }
  report& stats() noexcept {
    return stats_;
  }

  // -- phases -------------------------------------------------------------------

  /// Registers this slice's users, pipelined over several connections. False
  /// (and failure()) if the node refused one.
  bool register_users();

  /// Connects and logs in `users` (run indexes, all of this slice), at most
  /// plan.login_concurrency at a time; returns when each is in or has failed.
  void login(const std::vector<uint32_t>& users);

  /// Tells the coordinator this worker reached `phase` (with `snapshot`, or
  /// the current figures) and serves connections until it says go. Returns the
  /// go line's arguments; nothing if the run was aborted.
  std::optional<std::vector<std::string>> barrier(const std::string& phase,
                                                  const report* snapshot = nullptr);

  /// Tells the coordinator this worker reached `phase`, with `snapshot`, and
  /// goes on without waiting.
  void arrive(const std::string& phase, const report& snapshot);

  /// Runs the loop until `done` holds, `deadline_ns` passes (0: none) or the run
  /// is aborted.
  void run_until(const std::function<bool()>& done, int64_t deadline_ns = 0);

  /// Runs the loop until `done` holds or nothing was answered, delivered or
  /// ticked for `stall_ns`: waiting for what is outstanding, but not forever.
  void run_until_quiet(const std::function<bool()>& done, int64_t stall_ns);

  // -- what the users do --------------------------------------------------------

  /// User `sender` (of this slice) sends to `recipient` once sending starts,
  /// in a closed loop at most `quota` messages (0: no limit).
  void pair(uint32_t sender, uint32_t recipient, uint64_t quota = 0);

  /// Every sender keeps `window` sends unanswered until `stop_ns` or until its
  /// quota is spent.
  void start_closed_loop(size_t window, int64_t stop_ns);

  /// The senders send `rate` messages/s between them, in turn, from `start_ns`
  /// to `stop_ns`, whatever the answers; latencies of sends before
  /// `record_from_ns` are not recorded.
  void start_open_loop(double rate, int64_t start_ns, int64_t stop_ns,
                       int64_t record_from_ns);

  /// Sends written and not yet settled (both ticks, or refused), in this process.
  uint64_t unsettled() const noexcept {
    return unsettled_;
  }

  /// Closes every connection of this worker.
  void close_all();

  /// Sends the final report and the failure, if any, to the coordinator.
  void finish();

private:
  enum class conn_state : uint8_t {
    connecting,
    registering,
    login_sent,
    proving,
    ready,
    closed,
  };

  /// One connection to the node.
  struct connection {
    explicit connection(size_t max_frame) : reader(max_frame) {}

    int fd = -1;
    conn_state state = conn_state::connecting;
    bool for_register = false;
    bool reconnect = false;  // a login again after the node closed the user's last one
    uint32_t user = 0;  // run index; logins only
    frame_reader reader;
    out_buffer out;
    size_t out_sent = 0;
    bool wants_out = false;  // EPOLLOUT is registered
    bool queued = false;     // in the flush list
    int64_t started_ns = 0;
    int64_t last_write_ns = 0;
    int64_t heartbeat_ns = 0;
    // Acknowledgements gathered during this wakeup: ids by sender (an inbox
    // interleaves its senders), receipt seqs.
    std::vector<std::pair<std::string, std::vector<message_id>>> acks;
    size_t ack_groups = 0;  // acks[0, ack_groups) are in use; the rest keep capacity
    std::vector<uint64_t> receipt_seqs;
    // Registration: run indexes still to send, and sent without an answer.
    std::vector<uint32_t> to_register;
    size_t register_next = 0;
    size_t unanswered = 0;
  };

  /// A send not yet settled.
  struct pending_send {
    int64_t sent_ns = 0;
    bool record = true;
    bool sent_tick = false;
    bool delivered_tick = false;
    bool refused = false;
    uint8_t unanswered = 0;  // transmissions without their answer (a tick or an error)

    bool settled() const noexcept {
      return refused || (sent_tick && delivered_tick);
    }
  };

  /// Messages from one sender, as received.
  struct stream_in {
    uint64_t next = 1;          // the lowest seq not received yet
    std::set<uint64_t> ahead;   // received above `next` (out of order)
    // What had been received when the user's connection was last closed: the
    // node sends what it had no acknowledgement for again after a reconnect.
    uint64_t next_at_close = 1;
    std::set<uint64_t> ahead_at_close;
    bool received_before_close(uint64_t seq) const {
      return seq < next_at_close || ahead_at_close.count(seq) > 0;
    }
  };

  /// A user of this slice.
  struct local_user {
    int conn = -1;
    bool reconnecting = false;  // the node closed its connection; a new one is due
    // A send was refused for a reason that passes: the node takes nothing after
    // it until it comes again, so it and every later send go again, in order,
    // before any new one (0: none).
    uint64_t resend_from = 0;
    bool round_due = false;  // a resend round is scheduled
    bool sender = false;
    uint32_t recipient = 0;
    uint32_t in_flight = 0;  // sends without a sent tick or refusal
    uint64_t quota = 0;      // closed loop: sends left
    uint64_t next_seq = 1;
    uint64_t pending_base = 1;  // seq of pending.front()
    std::deque<pending_send> pending;
    std::unordered_map<uint32_t, stream_in> incoming;  // by sender
  };

  local_user& local(uint32_t user) {
    return users_[user - slice_.begin];
  }

  // -- connections ----------------------------------------------------------------
  int open_connection(bool for_register, uint32_t user);
  void on_event(uint32_t index, uint32_t events);
  void on_connected(uint32_t index);
  void on_readable(uint32_t index);
  void close_connection(uint32_t index, bool expected);
  /// The node closed `user`'s connection: log in again after a pause, as a
  /// client would; what it had received may come again.
  void schedule_reconnect(uint32_t user);
  /// Logged in again: sends that had no sent tick go again, same id.
  void on_reconnected(uint32_t user);
  void queue_flush(uint32_t index);
  void flush_all();
  void write_out(uint32_t index);
  void want_out(uint32_t index, bool on);

  // -- frames ---------------------------------------------------------------------
  void dispatch(uint32_t index, kj::ArrayPtr<const capnp::word> words);
  void on_challenge(uint32_t index, std::string_view nonce);
  void on_welcome(uint32_t index, uint32_t heartbeat_seconds);
  void on_registered(uint32_t index);
  void on_deliver(uint32_t index, std::string_view from, std::string_view id,
                  std::string_view payload);
  /// `seq` 0: nothing to acknowledge (a sent tick, or a further id of an item).
  void on_receipt(uint32_t index, uint64_t seq, std::string_view id, int state);
  void on_error(uint32_t index, int code, std::string_view message,
                std::string_view refers_to);
  /// Writes the acknowledgements gathered on `c` so far, an Ack per sender.
  void emit_ack_frame(connection& c);
  /// The group of `c.acks` for sender `from`, made if needed.
  std::vector<message_id>& ack_group(connection& c, std::string_view from);
  void feed_registrations(uint32_t index);

  // -- sending --------------------------------------------------------------------
  void send_message(uint32_t user, bool record);
  /// Sends pending message `seq` of `user` again, same id and stamp.
  void resend(uint32_t user, uint64_t seq);
  /// `user` must send again from `seq` on; a round does it after a pause.
  void hold_from(uint32_t user, uint64_t seq);
  /// Sends `user`'s held sends again, in order, as far as their earlier
  /// transmissions are answered; then new sends may follow.
  void resend_round(uint32_t user);
  bool connected(const local_user& u) const;
  /// Connected, a sender, and holding nothing back: a new send may go.
  bool can_send(const local_user& u) const;
  void refill(uint32_t user);
  void settle_front(local_user& u);
  void service_timers(int64_t now);
  int64_t next_timer(int64_t now) const;

  // -- control --------------------------------------------------------------------
  void on_control();
  /// Tells the coordinator about a problem, once per distinct text.
  void note(const std::string& text);

  const plan& plan_;
  const user_set& users_set_;
  slice slice_;
  uint32_t next_source_ = 0;  // the slice's source address of the next connection
  control_channel& control_;
  std::string failure_;
  bool aborted_ = false;

  int epoll_ = -1;
  encoder encoder_;
  std::vector<std::unique_ptr<connection>> conns_;
  std::vector<uint32_t> flush_list_;
  std::vector<uint32_t> dead_;  // closed this wakeup; freed once it is over
  std::vector<local_user> users_;
  std::vector<char> read_buffer_;
  std::vector<unsigned char> payload_;
  std::deque<std::string> go_lines_;
  std::set<std::string> notes_;
  report stats_;
  int64_t arrival_ns_ = 0;  // when the bytes being decoded were read

  // Logins under way.
  std::deque<uint32_t> login_queue_;
  size_t logins_active_ = 0;

  // Registration.
  size_t registers_left_ = 0;

  // Sending.
  std::vector<uint32_t> senders_;  // run indexes
  bool closed_loop_ = false;
  size_t window_ = 0;
  int64_t stop_ns_ = 0;
  bool open_loop_ = false;
  double rate_per_ns_ = 0;
  int64_t start_ns_ = 0;
  int64_t record_from_ns_ = 0;
  uint64_t open_sent_ = 0;  // open loop: sends due so far that were handled
  size_t turn_ = 0;         // open loop: whose turn
  uint64_t unsettled_ = 0;

  /// Something due for a user at a time: queues in the order they fall due.
  struct user_due {
    uint32_t user = 0;
    int64_t due_ns = 0;
  };
  std::deque<user_due> rounds_;      // resend rounds (resend_round)
  std::deque<user_due> reconnects_;  // users whose connection the node closed
  bool closing_all_ = false;  // the run is over: nobody reconnects

  int64_t next_heartbeat_check_ = 0;
  int64_t next_progress_ = 0;
};

} // namespace parley::bench
