#include "tools/bench/driver.hpp"

#include "schema/bytes.hpp"
#include "schema/errors.hpp"
#include "schema/protocol.capnp.h"
#include "schema/rules.hpp"
#include "tools/bench/proc.hpp"

#include <capnp/serialize.h>
#include <sodium.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <unistd.h>

namespace parley::bench {

namespace {

constexpr uint64_t control_tag = ~uint64_t{0};
constexpr size_t max_frame_in = 1024 * 1024;
constexpr size_t read_buffer_bytes = 256 * 1024;
constexpr size_t max_ack_ids = 1024;   // an Ack of 1024 ids is ≈ 25 KB, under max-frame
constexpr size_t max_events = 512;
constexpr int64_t second_ns = 1'000'000'000;
constexpr int64_t retry_delay_ns = 50'000'000;
constexpr int64_t reconnect_delay_ns = 200'000'000;

std::string_view text_view(capnp::Text::Reader t) {
  return {t.cStr(), t.size()};
}

} // namespace

driver::driver(const plan& p, const user_set& users, const slice& s,
               control_channel& control)
  : plan_(p),
    users_set_(users),
    slice_(s),
    control_(control),
    users_(s.end - s.begin),
    read_buffer_(read_buffer_bytes),
    payload_(p.payload) {
  // Timers to the microsecond: fixed-rate sends are 50 µs apart at 20,000/s.
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_ < 0) {
    failure_ = std::string("epoll_create1: ") + std::strerror(errno);
    return;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = control_tag;
  if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, control_.fd(), &ev) != 0)
    failure_ = std::string("epoll_ctl: ") + std::strerror(errno);
}

driver::~driver() {
  close_all();
  if (epoll_ >= 0)
    ::close(epoll_);
}

// -- phases -----------------------------------------------------------------------

bool driver::register_users() {
  auto count = slice_.end - slice_.begin;
  if (count == 0)
    return true;
  registers_left_ = count;
  auto conns = std::min(std::max<size_t>(1, plan_.register_connections), count);
  std::vector<uint32_t> slots;
  for (size_t i = 0; i < conns; ++i) {
    auto idx = open_connection(true, 0);
    if (idx < 0) {
      failure_ = "cannot connect to register users";
      return false;
    }
    slots.push_back(static_cast<uint32_t>(idx));
  }
  for (size_t i = 0; i < count; ++i)
    conns_[slots[i % conns]]->to_register.push_back(
      static_cast<uint32_t>(slice_.begin + i));
  run_until([this] { return registers_left_ == 0 || !failure_.empty(); });
  for (auto idx : slots)
    close_connection(idx, true);
  flush_all();
  return failure_.empty() && registers_left_ == 0;
}

void driver::login(const std::vector<uint32_t>& users) {
  login_queue_.insert(login_queue_.end(), users.begin(), users.end());
  run_until([this] { return login_queue_.empty() && logins_active_ == 0; });
}

void driver::arrive(const std::string& phase, const report& snapshot) {
  flush_all();
  if (!control_.send("arrive " + phase + " " + snapshot.serialize()))
    aborted_ = true;
}

std::optional<std::vector<std::string>> driver::barrier(const std::string& phase,
                                                        const report* snapshot) {
  arrive(phase, snapshot != nullptr ? *snapshot : stats_);
  if (aborted_)
    return std::nullopt;
  run_until([this] { return !go_lines_.empty(); });
  if (aborted_ || go_lines_.empty())
    return std::nullopt;
  auto line = std::move(go_lines_.front());
  go_lines_.pop_front();
  std::vector<std::string> args;
  std::string_view rest = line;
  while (!rest.empty()) {
    auto [word, tail] = split_word(rest);
    args.emplace_back(word);
    rest = tail;
  }
  if (args.empty() || args.front() != phase) {
    failure_ = "coordinator said go to " + line + " at " + phase;
    aborted_ = true;
    return std::nullopt;
  }
  args.erase(args.begin());
  return args;
}

void driver::run_until(const std::function<bool()>& done, int64_t deadline_ns) {
  epoll_event events[max_events];
  for (;;) {
    auto now = now_ns();
    service_timers(now);
    flush_all();
    for (auto idx : dead_)
      conns_[idx].reset();
    dead_.clear();
    if (aborted_ || done() || (deadline_ns != 0 && now >= deadline_ns))
      return;
    auto wake = next_timer(now);
    if (deadline_ns != 0)
      wake = std::min(wake, deadline_ns);
    auto wait = std::max<int64_t>(0, wake - now);
    timespec ts{static_cast<time_t>(wait / second_ns), static_cast<long>(wait % second_ns)};
    int n = ::epoll_pwait2(epoll_, events, static_cast<int>(max_events), &ts, nullptr);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      failure_ = std::string("epoll_pwait2: ") + std::strerror(errno);
      aborted_ = true;
      return;
    }
    if (n > 0)
      ++stats_[counter::wakeups];
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == control_tag)
        on_control();
      else
        on_event(static_cast<uint32_t>(events[i].data.u64), events[i].events);
    }
  }
}

void driver::run_until_quiet(const std::function<bool()>& done, int64_t stall_ns) {
  auto progress = [this] {
    return stats_[counter::sent_ticks] + stats_[counter::refused]
           + stats_[counter::delivered] + stats_[counter::delivered_ticks]
           + stats_[counter::logins] + stats_[counter::login_failed];
  };
  auto last = progress();
  auto last_change = now_ns();
  run_until([&] {
    if (done())
      return true;
    auto now = now_ns();
    if (auto p = progress(); p != last) {
      last = p;
      last_change = now;
    }
    return now - last_change >= stall_ns;
  });
}

// -- what the users do --------------------------------------------------------------

void driver::pair(uint32_t sender, uint32_t recipient, uint64_t quota) {
  auto& u = local(sender);
  if (!u.sender)
    senders_.push_back(sender);
  u.sender = true;
  u.recipient = recipient;
  u.quota = quota == 0 ? ~uint64_t{0} : quota;
}

void driver::start_closed_loop(size_t window, int64_t stop_ns) {
  closed_loop_ = true;
  window_ = std::max<size_t>(1, window);
  stop_ns_ = stop_ns;
  for (auto s : senders_)
    refill(s);
}

void driver::start_open_loop(double rate, int64_t start_ns, int64_t stop_ns,
                             int64_t record_from_ns) {
  open_loop_ = rate > 0 && !senders_.empty();
  rate_per_ns_ = rate / static_cast<double>(second_ns);
  start_ns_ = start_ns;
  stop_ns_ = stop_ns;
  record_from_ns_ = record_from_ns;
  open_sent_ = 0;
}

void driver::close_all() {
  closing_all_ = true;
  reconnects_.clear();
  for (uint32_t i = 0; i < conns_.size(); ++i)
    if (conns_[i] && conns_[i]->state != conn_state::closed)
      close_connection(i, true);
  for (auto idx : dead_)
    conns_[idx].reset();
  dead_.clear();
}

void driver::finish() {
  flush_all();
  if (!failure_.empty())
    control_.send("fail " + failure_);
  control_.send("result " + stats_.serialize());
}

void driver::note(const std::string& text) {
  if (notes_.size() >= 16 || !notes_.insert(text).second)
    return;
  control_.send("note " + text);
}

// -- connections --------------------------------------------------------------------

int driver::open_connection(bool for_register, uint32_t user) {
  int fd = ::socket(plan_.target.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    note(std::string("socket: ") + std::strerror(errno));
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (slice_.bind_source) {
    // The port is picked at connect, per destination: a source address then
    // serves ≈ 28,000 connections to one node instead of sharing one port range.
    ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
    sockaddr_in src{};
    src.sin_family = AF_INET;
    src.sin_addr.s_addr =
      htonl(ntohl(slice_.source.s_addr) + next_source_++ % slice_.sources);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof(src)) != 0) {
      note(std::string("bind: ") + std::strerror(errno));
      ::close(fd);
      return -1;
    }
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&plan_.target), plan_.target_len)
        != 0
      && errno != EINPROGRESS) {
    note(std::string("connect: ") + std::strerror(errno));
    ::close(fd);
    return -1;
  }
  auto idx = static_cast<uint32_t>(conns_.size());
  auto c = std::make_unique<connection>(max_frame_in);
  c->fd = fd;
  c->for_register = for_register;
  c->user = user;
  c->started_ns = now_ns();
  c->last_write_ns = c->started_ns;
  c->wants_out = true;  // writable = connected
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
  ev.data.u64 = idx;
  if (::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    note(std::string("epoll_ctl: ") + std::strerror(errno));
    ::close(fd);
    return -1;
  }
  stats_.set(mark::first_connect, c->started_ns);
  conns_.push_back(std::move(c));
  if (!for_register)
    local(user).conn = static_cast<int>(idx);
  return static_cast<int>(idx);
}

void driver::on_event(uint32_t index, uint32_t events) {
  auto* c = conns_[index].get();
  if (c == nullptr || c->state == conn_state::closed)
    return;
  if (c->state == conn_state::connecting) {
    on_connected(index);
    return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
    on_readable(index);
  if ((events & EPOLLOUT) && c->state != conn_state::closed)
    write_out(index);
}

void driver::on_connected(uint32_t index) {
  auto& c = *conns_[index];
  int err = 0;
  socklen_t len = sizeof(err);
  if (::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
    err = errno;
  if (err != 0) {
    note(std::string("connect: ") + std::strerror(err));
    close_connection(index, false);
    return;
  }
  if (c.for_register) {
    c.state = conn_state::registering;
    feed_registrations(index);
  } else {
    c.state = conn_state::login_sent;
    encoder_.login(c.out, users_set_.users[c.user].name);
    ++stats_[counter::frames_out];
  }
  queue_flush(index);
}

void driver::on_readable(uint32_t index) {
  auto& c = *conns_[index];
  for (int round = 0; round < 4; ++round) {
    auto n = ::recv(c.fd, read_buffer_.data(), read_buffer_.size(), 0);
    if (n > 0) {
      stats_[counter::bytes_in] += static_cast<uint64_t>(n);
      arrival_ns_ = now_ns();
      c.reader.feed(read_buffer_.data(), static_cast<size_t>(n));
      while (auto words = c.reader.next()) {
        dispatch(index, *words);
        if (c.state == conn_state::closed)
          return;
      }
      if (c.reader.error() != frame_error::none) {
        note("bad frame header from the node");
        close_connection(index, false);
        return;
      }
      if (static_cast<size_t>(n) < read_buffer_.size())
        return;  // drained: spare the recv that would say EAGAIN
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return;
    close_connection(index, false);  // closed by the node, or broken
    return;
  }
}

void driver::close_connection(uint32_t index, bool expected) {
  if (!conns_[index])
    return;
  auto& c = *conns_[index];
  if (c.state == conn_state::closed)
    return;
  bool logging_in = !c.for_register
                    && (c.state == conn_state::connecting
                        || c.state == conn_state::login_sent
                        || c.state == conn_state::proving);
  bool reopen = false;
  if (logging_in && c.reconnect) {
    reopen = !closing_all_;  // not in yet (the node may still be down): again later
  } else if (logging_in) {
    --logins_active_;
    ++stats_[counter::login_failed];
  } else if (c.state == conn_state::ready && !expected) {
    ++stats_[counter::closed];
    reopen = !closing_all_;
  } else if (c.for_register && !expected && registers_left_ > 0 && failure_.empty()) {
    failure_ = "the node closed a registration connection";
  }
  if (!c.for_register && local(c.user).conn == static_cast<int>(index))
    local(c.user).conn = -1;
  ::close(c.fd);
  c.fd = -1;
  c.state = conn_state::closed;
  dead_.push_back(index);
  if (reopen)
    schedule_reconnect(c.user);
}

void driver::schedule_reconnect(uint32_t user) {
  auto& u = local(user);
  // Nothing is received while logging in, so a failed reconnect takes the same
  // snapshot again.
  for (auto& entry : u.incoming) {
    entry.second.next_at_close = entry.second.next;
    entry.second.ahead_at_close = entry.second.ahead;
  }
  u.reconnecting = true;
  reconnects_.push_back({user, now_ns() + reconnect_delay_ns});
}

void driver::on_reconnected(uint32_t user) {
  auto& u = local(user);
  u.reconnecting = false;
  ++stats_[counter::reconnects];
  // The closed connection answers nothing more: every send without its sent
  // tick goes again, in order.
  for (auto& p : u.pending)
    p.unanswered = 0;
  if (u.pending_base < u.next_seq)
    u.resend_from = u.pending_base;
  resend_round(user);
  refill(user);  // the round does, unless nothing was held
}

void driver::queue_flush(uint32_t index) {
  auto& c = *conns_[index];
  if (!c.queued) {
    c.queued = true;
    flush_list_.push_back(index);
  }
}

void driver::flush_all() {
  // write_out can close a connection but never queues one: iterate by index.
  for (size_t i = 0; i < flush_list_.size(); ++i) {
    auto idx = flush_list_[i];
    auto* c = conns_[idx].get();
    if (c == nullptr || c->state == conn_state::closed)
      continue;
    c->queued = false;
    emit_ack_frame(*c);
    if (c->state != conn_state::connecting)
      write_out(idx);
  }
  flush_list_.clear();
}

void driver::write_out(uint32_t index) {
  auto& c = *conns_[index];
  while (c.out_sent < c.out.size()) {
    auto n = ::send(c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent,
                    MSG_NOSIGNAL);
    ++stats_[counter::writes];
    if (n > 0) {
      c.out_sent += static_cast<size_t>(n);
      stats_[counter::bytes_out] += static_cast<uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      want_out(index, true);
      return;
    }
    close_connection(index, false);
    return;
  }
  c.out.clear();
  c.out_sent = 0;
  c.last_write_ns = now_ns();
  want_out(index, false);
}

void driver::want_out(uint32_t index, bool on) {
  auto& c = *conns_[index];
  if (c.wants_out == on)
    return;
  c.wants_out = on;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (on ? static_cast<uint32_t>(EPOLLOUT) : 0u);
  ev.data.u64 = index;
  ::epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
}

// -- frames -----------------------------------------------------------------------

void driver::dispatch(uint32_t index, kj::ArrayPtr<const capnp::word> words) {
  ++stats_[counter::frames_in];
  try {
    capnp::FlatArrayMessageReader message(words, reader_options(words.size()));
    auto f = message.getRoot<wire::ServerFrame>();
    switch (f.which()) {
      case wire::ServerFrame::CHALLENGE:
        return on_challenge(index, view(f.getChallenge().getNonce()));
      case wire::ServerFrame::WELCOME:
        return on_welcome(index, f.getWelcome().getHeartbeatSeconds());
      case wire::ServerFrame::REGISTERED:
        return on_registered(index);
      case wire::ServerFrame::DELIVER: {
        auto d = f.getDeliver();
        return on_deliver(index, text_view(d.getFrom()), view(d.getId()),
                          view(d.getPayload()));
      }
      case wire::ServerFrame::RECEIPT: {
        auto r = f.getReceipt();
        auto state = static_cast<int>(r.getState());
        on_receipt(index, r.getSeq(), view(r.getId()), state);
        // The same tick for more messages: their item is acknowledged above.
        for (auto id : r.getMoreIds())
          on_receipt(index, 0, view(id), state);
        return;
      }
      case wire::ServerFrame::ERROR: {
        auto e = f.getError();
        return on_error(index, static_cast<int>(e.getCode()), text_view(e.getMessage()),
                        view(e.getRefersTo()));
      }
      default:
        return;  // pong, presence: nothing to count
    }
  } catch (const kj::Exception&) {
    note("undecodable frame from the node");
    close_connection(index, false);
  }
}

void driver::on_challenge(uint32_t index, std::string_view nonce) {
  auto& c = *conns_[index];
  if (c.state != conn_state::login_sent) {
    note("a challenge out of turn");
    return;
  }
  auto message = login_proof_message(nonce);
  unsigned char signature[crypto_sign_BYTES];
  crypto_sign_detached(signature, nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), users_set_.users[c.user].secret_key.data());
  encoder_.prove(c.out, {reinterpret_cast<const char*>(signature), sizeof(signature)});
  ++stats_[counter::frames_out];
  c.state = conn_state::proving;
  queue_flush(index);
}

void driver::on_welcome(uint32_t index, uint32_t heartbeat_seconds) {
  auto& c = *conns_[index];
  if (c.state != conn_state::proving) {
    note("a welcome out of turn");
    return;
  }
  c.state = conn_state::ready;
  c.heartbeat_ns = std::max<int64_t>(1, heartbeat_seconds) * second_ns;
  if (c.reconnect)
    return on_reconnected(c.user);
  --logins_active_;
  ++stats_[counter::logins];
  stats_[latency::login].record(arrival_ns_ - c.started_ns);
  stats_.set(mark::last_welcome, arrival_ns_);
  refill(c.user);
}

void driver::on_registered(uint32_t index) {
  auto& c = *conns_[index];
  if (c.unanswered == 0) {
    note("a registered answer out of turn");
    return;
  }
  --c.unanswered;
  --registers_left_;
  ++stats_[counter::registered];
  feed_registrations(index);
}

void driver::feed_registrations(uint32_t index) {
  auto& c = *conns_[index];
  while (c.unanswered < plan_.register_window && c.register_next < c.to_register.size()) {
    auto& u = users_set_.users[c.to_register[c.register_next++]];
    encoder_.register_user(c.out, u.name,
                           {reinterpret_cast<const char*>(u.public_key.data()),
                            u.public_key.size()});
    ++stats_[counter::frames_out];
    ++c.unanswered;
  }
  queue_flush(index);
}

void driver::on_deliver(uint32_t index, std::string_view from, std::string_view id,
                        std::string_view payload) {
  auto& c = *conns_[index];
  if (c.state != conn_state::ready)
    return;
  // Everything is acknowledged, this run's or not: the inbox must empty.
  if (id.size() == message_id_bytes) {
    auto& ids = ack_group(c, from);
    auto& slot = ids.emplace_back();
    std::memcpy(slot.data(), id.data(), slot.size());
    if (ids.size() >= max_ack_ids)
      emit_ack_frame(c);
    queue_flush(index);
  }
  auto s = read_stamp(payload);
  if (!s || s->run_code != plan_.run_code || s->recipient != c.user
      || s->sender >= users_set_.users.size()) {
    ++stats_[counter::stale];
    return;
  }
  auto& in = local(c.user).incoming[s->sender];
  if (s->seq < in.next || in.ahead.count(s->seq) > 0) {
    // Received before the node closed the last connection, so perhaps never
    // acknowledged: sending it again is the node's promise, not a duplicate.
    ++stats_[in.received_before_close(s->seq) ? counter::redelivered
                                              : counter::duplicates];
    return;
  }
  if (s->seq == in.next) {
    ++in.next;
    while (!in.ahead.empty() && *in.ahead.begin() == in.next) {
      in.ahead.erase(in.ahead.begin());
      ++in.next;
    }
  } else {
    ++stats_[counter::reordered];
    in.ahead.insert(s->seq);
  }
  ++stats_[counter::delivered];
  if (s->sent_ns >= record_from_ns_)
    stats_[latency::deliver].record(arrival_ns_ - s->sent_ns);
  stats_.set(mark::last_deliver, arrival_ns_);
}

void driver::on_receipt(uint32_t index, uint64_t seq, std::string_view id, int state) {
  auto& c = *conns_[index];
  if (c.state != conn_state::ready)
    return;
  if (seq != 0) {  // an inbox item: acknowledge it whatever it is
    c.receipt_seqs.push_back(seq);
    if (c.receipt_seqs.size() >= max_ack_ids)
      emit_ack_frame(c);
    queue_flush(index);
  }
  auto parts = read_id(id);
  if (!parts || parts->run_code != plan_.run_code || parts->sender != c.user) {
    ++stats_[counter::stale];
    return;
  }
  auto& u = local(c.user);
  // A tick again on a connection that replaced a closed one: its receipt may
  // not have been acknowledged.
  auto again = c.reconnect ? counter::redelivered : counter::duplicate_ticks;
  if (parts->seq < u.pending_base) {
    ++stats_[again];
    return;
  }
  if (parts->seq >= u.next_seq) {
    ++stats_[counter::stale];
    return;
  }
  auto& p = u.pending[parts->seq - u.pending_base];
  bool was_settled = p.settled();
  auto elapsed = arrival_ns_ - p.sent_ns;
  bool sent_tick = false;
  if (state == static_cast<int>(wire::ReceiptState::SENT)) {
    if (p.sent_tick) {
      ++stats_[again];
      return;
    }
    p.sent_tick = sent_tick = true;
    p.unanswered = 0;
    --u.in_flight;
    ++stats_[counter::sent_ticks];
    if (p.record)
      stats_[latency::sent_tick].record(elapsed);
    stats_.set(mark::last_sent_tick, arrival_ns_);
  } else if (state == static_cast<int>(wire::ReceiptState::DELIVERED)) {
    if (p.delivered_tick) {
      ++stats_[again];
      return;
    }
    p.delivered_tick = true;
    ++stats_[counter::delivered_ticks];
    if (p.record)
      stats_[latency::delivered_tick].record(elapsed);
    stats_.set(mark::last_delivered_tick, arrival_ns_);
  } else {
    return;  // read: the bench never marks anything read
  }
  if (!was_settled && p.settled())
    --unsettled_;
  settle_front(u);
  if (sent_tick)
    refill(c.user);
}

void driver::on_error(uint32_t index, int code, std::string_view message,
                      std::string_view refers_to) {
  auto& c = *conns_[index];
  ++stats_[counter::errors];
  ++stats_.errors_by_code[std::min<size_t>(static_cast<size_t>(code),
                                            error_code_slots - 1)];
  auto what = std::string(parley::to_string(static_cast<wire::ErrorCode>(code))) + ": "
              + std::string(message);
  if (!refers_to.empty()) {
    auto parts = read_id(refers_to);
    if (!parts || parts->run_code != plan_.run_code || parts->sender != c.user)
      return note("error for a send of another run: " + what);
    auto& u = local(c.user);
    if (parts->seq < u.pending_base || parts->seq >= u.next_seq)
      return;
    auto& p = u.pending[parts->seq - u.pending_base];
    if (p.sent_tick || p.refused)
      return;
    auto why = static_cast<wire::ErrorCode>(code);
    if (p.unanswered > 0)
      --p.unanswered;
    if (retryable(why) && why != wire::ErrorCode::SHUTTING_DOWN) {
      if (p.unanswered > 0)
        return;  // it went again meanwhile, and that answer is still to come
      // "Try again": the node may have stored it or not; the same id again
      // is answered like the first and never delivered twice.
      note("send answered " + what + "; retransmitting");
      hold_from(c.user, parts->seq);
      return;
    }
    note("send refused: " + what);
    p.refused = true;
    --u.in_flight;
    --unsettled_;
    ++stats_[counter::refused];
    settle_front(u);
    refill(c.user);
    return;
  }
  switch (c.state) {
    case conn_state::registering:
      if (failure_.empty())
        failure_ = "registration refused: " + what;
      return;
    case conn_state::login_sent:
    case conn_state::proving:
      note("login refused: " + what);
      close_connection(index, true);  // counted as a failed login
      return;
    default:
      note("error from the node: " + what);
      return;
  }
}

std::vector<message_id>& driver::ack_group(connection& c, std::string_view from) {
  for (size_t i = 0; i < c.ack_groups; ++i)
    if (c.acks[i].first == from)
      return c.acks[i].second;
  if (c.ack_groups == c.acks.size())
    c.acks.emplace_back();
  auto& group = c.acks[c.ack_groups++];
  group.first.assign(from);
  group.second.clear();
  return group.second;
}

void driver::emit_ack_frame(connection& c) {
  for (size_t i = 0; i < c.ack_groups; ++i) {
    encoder_.ack(c.out, c.acks[i].first, c.acks[i].second);
    ++stats_[counter::frames_out];
    c.acks[i].second.clear();
  }
  c.ack_groups = 0;
  if (!c.receipt_seqs.empty()) {
    encoder_.ack_receipts(c.out, c.receipt_seqs);
    ++stats_[counter::frames_out];
    c.receipt_seqs.clear();
  }
}

// -- sending ------------------------------------------------------------------------

void driver::send_message(uint32_t user, bool record) {
  auto& u = local(user);
  auto& c = *conns_[static_cast<uint32_t>(u.conn)];
  auto now = now_ns();
  stamp s{plan_.run_code, user, u.recipient, u.next_seq, now};
  write_stamp(s, payload_.data(), payload_.size());
  encoder_.send(c.out, make_id(plan_.run_code, user, u.next_seq),
                users_set_.users[u.recipient].name,
                {reinterpret_cast<const char*>(payload_.data()), payload_.size()});
  pending_send p;
  p.sent_ns = now;
  p.record = record;
  p.unanswered = 1;
  u.pending.push_back(p);
  ++u.next_seq;
  ++u.in_flight;
  ++unsettled_;
  ++stats_[counter::sends];
  ++stats_[counter::frames_out];
  stats_.set(mark::first_send, now);
  queue_flush(static_cast<uint32_t>(u.conn));
}

void driver::resend(uint32_t user, uint64_t seq) {
  auto& u = local(user);
  if (seq < u.pending_base || seq >= u.next_seq)
    return;
  auto& p = u.pending[seq - u.pending_base];
  if (p.sent_tick || p.refused)
    return;
  if (u.reconnecting)
    return;  // it goes again once the user is back
  if (!u.sender || !connected(u)) {
    // Its connection is gone: the message's fate is unknown, count it refused.
    p.refused = true;
    --u.in_flight;
    --unsettled_;
    ++stats_[counter::refused];
    settle_front(u);
    return;
  }
  stamp s{plan_.run_code, user, u.recipient, seq, p.sent_ns};
  write_stamp(s, payload_.data(), payload_.size());
  auto& c = *conns_[static_cast<uint32_t>(u.conn)];
  encoder_.send(c.out, make_id(plan_.run_code, user, seq),
                users_set_.users[u.recipient].name,
                {reinterpret_cast<const char*>(payload_.data()), payload_.size()});
  ++p.unanswered;
  ++stats_[counter::retransmits];
  ++stats_[counter::frames_out];
  queue_flush(static_cast<uint32_t>(u.conn));
}

void driver::hold_from(uint32_t user, uint64_t seq) {
  auto& u = local(user);
  u.resend_from = u.resend_from == 0 ? seq : std::min(u.resend_from, seq);
  if (!u.round_due) {
    u.round_due = true;
    rounds_.push_back({user, now_ns() + retry_delay_ns});
  }
}

void driver::resend_round(uint32_t user) {
  auto& u = local(user);
  if (u.resend_from == 0 || u.reconnecting)
    return;  // nothing held, or on_reconnected starts it
  for (auto seq = std::max(u.resend_from, u.pending_base); seq < u.next_seq; ++seq) {
    auto& p = u.pending[seq - u.pending_base];
    if (p.sent_tick || p.refused)
      continue;
    if (p.unanswered > 0) {
      // Its refusal is still on the way: going on would put later sends
      // ahead of it. The next round starts here.
      u.resend_from = seq;
      return hold_from(user, seq);
    }
    resend(user, seq);
  }
  u.resend_from = 0;
  refill(user);
}

bool driver::connected(const local_user& u) const {
  return u.conn >= 0 && conns_[static_cast<uint32_t>(u.conn)]->state == conn_state::ready;
}

bool driver::can_send(const local_user& u) const {
  return u.sender && u.resend_from == 0 && connected(u);
}

void driver::refill(uint32_t user) {
  if (!closed_loop_)
    return;
  auto& u = local(user);
  if (!can_send(u) || now_ns() >= stop_ns_)
    return;
  while (u.in_flight < window_ && u.quota > 0) {
    send_message(user, true);
    --u.quota;
  }
}

void driver::settle_front(local_user& u) {
  while (!u.pending.empty() && u.pending.front().settled()) {
    u.pending.pop_front();
    ++u.pending_base;
  }
}

void driver::service_timers(int64_t now) {
  while (!login_queue_.empty() && logins_active_ < plan_.login_concurrency) {
    auto user = login_queue_.front();
    login_queue_.pop_front();
    if (open_connection(false, user) >= 0)
      ++logins_active_;
    else
      ++stats_[counter::login_failed];
  }
  if (open_loop_ && now >= start_ns_) {
    // Send k is due at start + k / rate: send every one due by now.
    auto until = std::min(now, stop_ns_ - 1);
    auto due = static_cast<uint64_t>(static_cast<double>(until - start_ns_) * rate_per_ns_)
               + 1;
    while (open_sent_ < due) {
      auto due_ns = start_ns_
                    + static_cast<int64_t>(static_cast<double>(open_sent_) / rate_per_ns_);
      auto user = senders_[turn_++ % senders_.size()];
      ++open_sent_;
      auto& u = local(user);
      if (!can_send(u)) {
        ++stats_[counter::unsent];
        continue;
      }
      stats_[latency::lag].record(now - due_ns);
      send_message(user, due_ns >= record_from_ns_);
    }
    if (now >= stop_ns_)
      open_loop_ = false;
  }
  while (!reconnects_.empty() && reconnects_.front().due_ns <= now) {
    auto user = reconnects_.front().user;
    reconnects_.pop_front();
    auto idx = open_connection(false, user);
    if (idx < 0)
      schedule_reconnect(user);  // due later than now: this loop ends
    else
      conns_[static_cast<uint32_t>(idx)]->reconnect = true;
  }
  while (!rounds_.empty() && rounds_.front().due_ns <= now) {
    auto user = rounds_.front().user;
    rounds_.pop_front();
    local(user).round_due = false;
    resend_round(user);
  }
  if (now >= next_heartbeat_check_) {
    next_heartbeat_check_ = now + second_ns;
    // Silent connections beat before the node's interval runs out.
    for (uint32_t i = 0; i < conns_.size(); ++i) {
      auto* c = conns_[i].get();
      if (c == nullptr || c->state != conn_state::ready
          || now - c->last_write_ns < c->heartbeat_ns * 6 / 10)
        continue;
      encoder_.heartbeat(c->out);
      ++stats_[counter::frames_out];
      c->last_write_ns = now;
      queue_flush(i);
    }
  }
  if (now >= next_progress_) {
    next_progress_ = now + second_ns;
    if (!control_.send("progress " + stats_.serialize(true)))
      aborted_ = true;
  }
}

int64_t driver::next_timer(int64_t now) const {
  auto next = std::min(next_heartbeat_check_, next_progress_);
  if (!rounds_.empty())
    next = std::min(next, rounds_.front().due_ns);
  if (!reconnects_.empty())
    next = std::min(next, reconnects_.front().due_ns);
  if (open_loop_) {
    auto due_ns = start_ns_
                  + static_cast<int64_t>(static_cast<double>(open_sent_) / rate_per_ns_);
    next = std::min(next, std::max(due_ns, start_ns_));
    next = std::min(next, stop_ns_);
  }
  return std::max(next, now);
}

// -- control ------------------------------------------------------------------------

void driver::on_control() {
  bool open = control_.receive();
  while (auto line = control_.next_line()) {
    auto [word, rest] = split_word(*line);
    if (word == "go")
      go_lines_.emplace_back(rest);
    else if (word == "abort")
      aborted_ = true;
  }
  if (!open)
    aborted_ = true;  // the coordinator is gone
}

} // namespace parley::bench
