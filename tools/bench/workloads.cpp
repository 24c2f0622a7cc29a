#include "tools/bench/workloads.hpp"

#include "schema/errors.hpp"
#include "schema/protocol.capnp.h"
#include "tools/bench/coordinator.hpp"
#include "tools/bench/driver.hpp"
#include "tools/bench/proc.hpp"
#include "tools/bench/sheet.hpp"

#include <sys/resource.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <limits>

namespace parley::bench {

namespace {

constexpr int64_t second_ns = 1'000'000'000;
constexpr int64_t never = std::numeric_limits<int64_t>::max();

int64_t ns_of(double seconds) {
  return static_cast<int64_t>(seconds * 1e9);
}

double seconds_of(int64_t ns) {
  return static_cast<double>(ns) / 1e9;
}

double per_second(uint64_t n, int64_t ns) {
  return ns > 0 ? static_cast<double>(n) / seconds_of(ns) : 0.0;
}

double mb(uint64_t kb) {
  return static_cast<double>(kb) / 1024.0;
}

std::string utc_now() {
  auto t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

/// Checks that must hold for the run to pass; each failure is named.
struct checks {
  std::vector<std::string> failed;

  void require(bool ok, const std::string& what) {
    if (!ok)
      failed.push_back(what);
  }
};

std::vector<uint32_t> users_of(const slice& s, size_t from = 0) {
  std::vector<uint32_t> out;
  for (auto i = std::max(s.begin, from); i < s.end; ++i)
    out.push_back(static_cast<uint32_t>(i));
  return out;
}

bool in_slice(const slice& s, size_t user) {
  return user >= s.begin && user < s.end;
}

/// go arguments as numbers; false if one is missing.
bool numbers(const std::optional<std::vector<std::string>>& args,
             std::initializer_list<int64_t*> out) {
  if (!args || args->size() < out.size())
    return false;
  size_t i = 0;
  for (auto* x : out)
    *x = std::strtoll((*args)[i++].c_str(), nullptr, 10);
  return true;
}

// -- shared steps ---------------------------------------------------------------

/// A worker's start: register its users if they are new, then wait for the rest.
bool worker_prelude(driver& d, const run_context& ctx) {
  if (ctx.need_register && !d.register_users())
    return false;
  return d.barrier("registered").has_value();
}

/// What registration took.
struct registration {
  uint64_t users = 0;
  int64_t ns = 0;
};

/// The coordinator's start: waits for registration and writes the key file.
std::optional<registration> coordinator_prelude(coordinator& c, const run_context& ctx) {
  c.set_phase("register");
  auto t0 = now_ns();
  auto reg = c.wait_all("registered");
  if (!reg)
    return std::nullopt;
  registration out{(*reg)[counter::registered], now_ns() - t0};
  if (ctx.save_keys) {
    std::string error;
    if (!save_users(ctx.p.keys_file, ctx.users, error)) {
      std::cerr << "parley-bench: " << error << "\n";
      return std::nullopt;
    }
  }
  return out;
}

void add_run(sheet& s, const run_context& ctx, size_t procs) {
  auto& p = ctx.p;
  s.section("run");
  s.text("workload", p.workload);
  s.text("node", p.host + ":" + std::to_string(p.port));
  s.text("date", utc_now());
  s.count("users", static_cast<int64_t>(ctx.users.users.size()));
  s.text("run", ctx.users.run);
  s.count("processes", static_cast<int64_t>(procs));
  if (p.workload != "w1" && p.workload != "register")
    s.count("payload_bytes", static_cast<int64_t>(p.payload));
}

void add_registration(sheet& s, const run_context& ctx, const registration& reg) {
  if (!ctx.need_register)
    return;
  s.count("registered", static_cast<int64_t>(reg.users));
  s.number("registrations_per_s", per_second(reg.users, reg.ns), 0);
}

void add_messages(sheet& s, const report& r, checks& ch) {
  auto n = [&](counter c) { return static_cast<int64_t>(r[c]); };
  auto accepted = n(counter::sends) - n(counter::refused);
  auto lost = accepted - n(counter::delivered);
  auto missing_sent = accepted - n(counter::sent_ticks);
  auto missing_delivered = n(counter::delivered) - n(counter::delivered_ticks);
  s.section("messages");
  s.count("sent", n(counter::sends));
  s.count("sent_ticks", n(counter::sent_ticks));
  s.count("refused", n(counter::refused));
  s.count("retransmits", n(counter::retransmits));
  s.count("delivered", n(counter::delivered));
  s.count("delivered_ticks", n(counter::delivered_ticks));
  s.count("lost", lost);
  s.count("duplicated", n(counter::duplicates));
  s.count("reordered", n(counter::reordered));
  s.count("missing_sent_ticks", missing_sent);
  s.count("missing_delivered_ticks", missing_delivered);
  s.count("duplicate_ticks", n(counter::duplicate_ticks));
  s.count("redelivered", n(counter::redelivered));
  s.count("unsent", n(counter::unsent));
  s.count("stale", n(counter::stale));
  ch.require(lost == 0, "lost messages");
  ch.require(n(counter::duplicates) == 0, "duplicated messages");
  ch.require(n(counter::reordered) == 0, "reordered messages");
  ch.require(n(counter::refused) == 0, "refused sends");
  ch.require(missing_sent == 0, "missing sent ticks");
  ch.require(missing_delivered == 0, "missing delivered ticks");
  ch.require(n(counter::duplicate_ticks) == 0, "duplicate ticks");
}

void add_connections(sheet& s, const report& r, checks& ch) {
  s.section("connections");
  s.count("logins", static_cast<int64_t>(r[counter::logins]));
  s.count("login_failed", static_cast<int64_t>(r[counter::login_failed]));
  s.count("closed_by_node", static_cast<int64_t>(r[counter::closed]));
  s.count("reconnects", static_cast<int64_t>(r[counter::reconnects]));
  s.count("error_frames", static_cast<int64_t>(r[counter::errors]));
  for (size_t code = 0; code < error_code_slots; ++code)
    if (r.errors_by_code[code] != 0)
      s.count("error_" + std::string(to_string(static_cast<wire::ErrorCode>(code))),
              static_cast<int64_t>(r.errors_by_code[code]));
  ch.require(r[counter::login_failed] == 0, "failed logins");
  ch.require(r[counter::closed] == r[counter::reconnects],
             "connections closed by the node and not opened again");
}

/// The bench's own work: total CPU, and how well it batched.
void add_bench(sheet& s, const report& r) {
  rusage self{}, children{};
  ::getrusage(RUSAGE_SELF, &self);
  ::getrusage(RUSAGE_CHILDREN, &children);
  auto sec = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  s.section("bench");
  s.number("cpu_s_total", sec(self.ru_utime) + sec(self.ru_stime)
                            + sec(children.ru_utime) + sec(children.ru_stime),
           2);
  s.count("frames_out", static_cast<int64_t>(r[counter::frames_out]));
  s.count("frames_in", static_cast<int64_t>(r[counter::frames_in]));
  s.count("write_calls", static_cast<int64_t>(r[counter::writes]));
  s.count("wakeups", static_cast<int64_t>(r[counter::wakeups]));
  if (r[counter::writes] > 0)
    s.number("frames_per_write", static_cast<double>(r[counter::frames_out])
                                   / static_cast<double>(r[counter::writes]),
             2);
}

/// A window of node and bench CPU between two instants.
struct cpu_window {
  proc_sample node_from;
  proc_sample node_to;
  double bench_from = 0;
  double bench_to = 0;
  int64_t from_ns = 0;
  int64_t to_ns = 0;

  void begin(coordinator& c) {
    node_from = c.node_now();
    bench_from = c.bench_cpu_now();
    from_ns = now_ns();
  }
  void end(coordinator& c) {
    node_to = c.node_now();
    bench_to = c.bench_cpu_now();
    to_ns = now_ns();
  }
  bool node_ok() const {
    return node_from.ok && node_to.ok;
  }
  double node_cpu() const {
    return node_to.cpu_seconds - node_from.cpu_seconds;
  }
  double bench_cpu() const {
    return bench_to - bench_from;
  }
  double wall() const {
    return seconds_of(to_ns - from_ns);
  }
};

/// Node and bench CPU over `w`, and per 100,000 of `messages` when given.
void add_cpu(sheet& s, const std::string& prefix, const cpu_window& w,
             uint64_t messages = 0) {
  if (w.node_ok()) {
    s.number(prefix + "node_cpu_s", w.node_cpu(), 2);
    s.number(prefix + "node_cpu_share", w.node_cpu() / w.wall(), 2);
    if (messages > 0)
      s.number(prefix + "node_cpu_s_per_100k",
               w.node_cpu() / static_cast<double>(messages) * 1e5, 3);
  }
  s.number(prefix + "bench_cpu_s", w.bench_cpu(), 2);
  s.number(prefix + "bench_cpu_share", w.bench_cpu() / w.wall(), 2);
}

void add_latencies(sheet& s, const report& r) {
  s.section("latency_ms");
  for (auto l : {latency::sent_tick, latency::deliver, latency::delivered_tick})
    s.latency(name_of(l), r[l]);
}

/// Prints the sheet and the verdict; the exit code.
int conclude(sheet& s, const run_context& ctx, coordinator& c, checks& ch) {
  if (!c.notes().empty()) {
    s.section("notes");
    for (size_t i = 0; i < c.notes().size(); ++i)
      s.text(std::to_string(i + 1), c.notes()[i]);
  }
  s.section("checks");
  std::string failed;
  for (auto& f : ch.failed)
    failed += (failed.empty() ? "" : ", ") + f;
  s.text("result", failed.empty() ? "ok" : "FAILED: " + failed);
  if (ctx.p.json)
    std::cout << s.json() << std::endl;
  else
    std::cout << s.table() << std::flush;
  if (!ctx.p.json_file.empty()) {
    std::ofstream file(ctx.p.json_file, std::ios::trunc);
    file << s.json() << "\n";
    if (!file)
      std::cerr << "parley-bench: cannot write " << ctx.p.json_file << "\n";
  }
  return ch.failed.empty() ? 0 : 1;
}

int fail(coordinator& c, const std::string& during) {
  c.abort_all();
  std::cerr << "parley-bench: " << during << " failed: "
            << (c.failure().empty() ? std::string("aborted") : c.failure()) << "\n";
  return 1;
}

std::string title(const run_context& ctx, const std::string& what) {
  return "parley-bench " + ctx.p.workload + ": " + what;
}

// -- register -------------------------------------------------------------------

int run_register(const run_context& ctx) {
  auto slices = make_slices(ctx.p, ctx.users.users.size());
  coordinator c(ctx.p, ctx.users);
  if (!c.start(slices, [&](driver& d) { return worker_prelude(d, ctx) ? 0 : 1; }))
    return fail(c, "starting");
  auto reg = coordinator_prelude(c, ctx);
  if (!reg)
    return fail(c, "registration");
  c.go_all("registered");
  auto final = c.collect();
  if (!final)
    return fail(c, "registration");
  sheet s(title(ctx, std::to_string(ctx.users.users.size()) + " users registered"));
  add_run(s, ctx, slices.size());
  add_registration(s, ctx, *reg);
  checks ch;
  ch.require(!ctx.need_register || reg->users == ctx.users.users.size(), "unregistered users");
  return conclude(s, ctx, c, ch);
}

// -- w1: logged-in users ----------------------------------------------------------

int run_w1(const run_context& ctx) {
  auto& p = ctx.p;
  auto slices = make_slices(p, ctx.users.users.size());
  coordinator c(p, ctx.users);
  auto work = [&](driver& d) {
    if (!worker_prelude(d, ctx))
      return 1;
    d.login(users_of(d.my_slice()));
    int64_t until = 0;
    if (!numbers(d.barrier("logged-in"), {&until}))
      return 1;
    d.run_until([] { return false; }, until);  // everyone stays, with heartbeats
    return 0;
  };
  if (!c.start(slices, work))
    return fail(c, "starting");
  auto reg = coordinator_prelude(c, ctx);
  if (!reg)
    return fail(c, "registration");
  // The node's size with every user registered and nobody connected.
  c.idle_until(now_ns() + ns_of(p.settle));
  auto before = c.node_now();
  cpu_window login;
  login.begin(c);
  c.set_phase("login");
  c.go_all("registered");
  auto in = c.wait_all("logged-in");
  if (!in)
    return fail(c, "login");
  login.end(c);
  auto login_ns = in->at(mark::last_welcome) - login.from_ns;
  c.set_phase("settle");
  c.idle_until(now_ns() + ns_of(p.settle));
  auto after = c.node_now();
  auto hold_end = now_ns() + ns_of(p.hold);
  c.set_phase("hold");
  c.go_all("logged-in", std::to_string(hold_end));
  c.idle_until(hold_end - 100'000'000);
  auto held = c.node_now();
  auto final = c.collect();
  if (!final)
    return fail(c, "the run");

  auto logins = (*in)[counter::logins];
  sheet s(title(ctx, std::to_string(ctx.users.users.size()) + " users log in and stay"));
  add_run(s, ctx, slices.size());
  s.count("login_concurrency", static_cast<int64_t>(p.login_concurrency * slices.size()));
  add_registration(s, ctx, *reg);
  s.section("logins");
  s.count("logged_in", static_cast<int64_t>(logins));
  s.number("seconds", seconds_of(login_ns), 3);
  s.number("logins_per_s", per_second(logins, login_ns), 0);
  s.latency("login_ms", (*final)[latency::login]);
  add_cpu(s, "", login);
  if (login.node_ok() && logins > 0)
    s.number("node_cpu_ms_per_login", login.node_cpu() / static_cast<double>(logins) * 1e3, 4);
  s.section("node");
  if (before.ok && after.ok) {
    s.number("rss_mb_registered", mb(before.rss_kb), 1);
    s.number("rss_mb_logged_in", mb(after.rss_kb), 1);
    s.number("rss_mb_after_hold", mb(held.rss_kb), 1);
    if (logins > 0)
      s.number("rss_bytes_per_user",
               (static_cast<double>(after.rss_kb) - static_cast<double>(before.rss_kb))
                 * 1024.0 / static_cast<double>(logins),
               0);
  } else {
    s.text("rss", "not measured: no node process (--node-pid)");
  }
  checks ch;
  add_connections(s, *final, ch);
  ch.require(logins == ctx.users.users.size(), "users not logged in");
  add_bench(s, *final);
  return conclude(s, ctx, c, ch);
}

// -- w2 / w5: closed loop, and w3: fixed rate ----------------------------------------

/// Pairs user i with i + n/2: every user sends to one and hears from one.
uint32_t partner(size_t i, size_t n) {
  return static_cast<uint32_t>((i + n / 2) % n);
}

int run_pairs(const run_context& ctx, bool fixed_rate) {
  auto& p = ctx.p;
  auto n = ctx.users.users.size();
  auto slices = make_slices(p, n);
  coordinator c(p, ctx.users);
  auto stall = ns_of(p.drain);
  auto work = [&](driver& d) {
    if (!worker_prelude(d, ctx))
      return 1;
    auto mine = users_of(d.my_slice());
    for (auto u : mine)
      d.pair(u, partner(u, n));
    d.login(mine);
    int64_t start = 0, stop = 0;
    if (!numbers(d.barrier("logged-in"), {&start, &stop}))
      return 1;
    d.run_until([] { return false; }, start);
    if (fixed_rate) {
      // This worker's share of the rate, by its share of the senders.
      auto share = p.rate * static_cast<double>(mine.size()) / static_cast<double>(n);
      d.start_open_loop(share, start, stop, start + ns_of(p.warmup));
    } else {
      d.start_closed_loop(p.window, stop);
    }
    d.run_until([] { return false; }, stop);
    report window = d.stats();
    d.arrive("window", window);
    d.run_until_quiet([&] { return d.unsettled() == 0; }, stall);
    return d.barrier("drained") ? 0 : 1;
  };
  if (!c.start(slices, work))
    return fail(c, "starting");
  auto reg = coordinator_prelude(c, ctx);
  if (!reg)
    return fail(c, "registration");
  c.set_phase("login");
  auto login_from = now_ns();
  c.go_all("registered");
  auto in = c.wait_all("logged-in");
  if (!in)
    return fail(c, "login");
  auto login_ns = in->at(mark::last_welcome) - login_from;
  auto start = now_ns() + ns_of(p.start_delay);
  auto stop = start + ns_of(p.seconds);
  c.go_all("logged-in", std::to_string(start) + " " + std::to_string(stop));
  c.idle_until(start);
  cpu_window run;
  run.begin(c);
  c.set_phase("sending");
  c.idle_until(stop);
  run.end(c);
  auto window = c.wait_all("window");
  if (!window)
    return fail(c, "sending");
  c.set_phase("draining");
  if (!c.wait_all("drained"))
    return fail(c, "draining");
  c.go_all("drained");
  auto final = c.collect();
  if (!final)
    return fail(c, "the run");

  auto& w = *window;
  auto window_ns = stop - start;
  std::string what =
    fixed_rate ? std::to_string(n) + " users, " + std::to_string(static_cast<int64_t>(p.rate))
                   + " msg/s fixed, " + std::to_string(static_cast<int64_t>(p.seconds)) + " s"
               : std::to_string(n) + " users, <= " + std::to_string(p.window)
                   + " unanswered each, " + std::to_string(static_cast<int64_t>(p.seconds)) + " s";
  sheet s(title(ctx, what));
  add_run(s, ctx, slices.size());
  if (fixed_rate) {
    s.number("rate_per_s", p.rate, 0);
    s.number("warmup_s", p.warmup, 1);
  } else {
    s.count("window", static_cast<int64_t>(p.window));
  }
  s.number("seconds", p.seconds, 1);
  add_registration(s, ctx, *reg);
  s.number("logins_per_s", per_second((*in)[counter::logins], login_ns), 0);
  s.section("rates");  // within the sending window
  s.number("sent_per_s", per_second(w[counter::sends], window_ns), 0);
  s.number("delivered_per_s", per_second(w[counter::delivered], window_ns), 0);
  s.number("sent_ticks_per_s", per_second(w[counter::sent_ticks], window_ns), 0);
  s.number("delivered_ticks_per_s", per_second(w[counter::delivered_ticks], window_ns), 0);
  add_cpu(s, "", run, w[counter::delivered]);
  if (run.node_ok())
    s.number("node_rss_mb", mb(run.node_to.rss_kb), 1);
  checks ch;
  add_messages(s, *final, ch);
  add_latencies(s, *final);
  if (fixed_rate)
    s.latency("schedule_lag", (*final)[latency::lag]);
  add_connections(s, *final, ch);
  ch.require((*in)[counter::logins] == n, "users not logged in");
  add_bench(s, *final);
  return conclude(s, ctx, c, ch);
}

// -- w4: an offline user's inbox ----------------------------------------------------

int run_w4(const run_context& ctx) {
  auto& p = ctx.p;
  auto n = ctx.users.users.size();  // user 0 is offline; 1.. send
  auto senders = n - 1;
  auto slices = make_slices(p, n);
  coordinator c(p, ctx.users);
  auto stall = ns_of(p.drain);
  auto quota = [&](size_t sender) -> uint64_t {
    // p.count spread over the senders, the first ones taking the remainder.
    return p.count / senders + ((sender - 1) < p.count % senders ? 1 : 0);
  };
  auto work = [&](driver& d) {
    if (!worker_prelude(d, ctx))
      return 1;
    auto mine = users_of(d.my_slice(), 1);
    uint64_t my_count = 0;
    for (auto u : mine) {
      d.pair(u, 0, quota(u));
      my_count += quota(u);
    }
    d.login(mine);
    int64_t start = 0;
    if (!numbers(d.barrier("logged-in"), {&start}))
      return 1;
    d.run_until([] { return false; }, start);
    // Each sender's quota, --window at a time.
    d.start_closed_loop(p.window, never);
    d.run_until_quiet(
      [&] {
        return d.stats()[counter::sent_ticks] + d.stats()[counter::refused] >= my_count;
      },
      stall);
    if (!d.barrier("stored"))
      return 1;
    bool sink_here = in_slice(d.my_slice(), 0);
    if (sink_here)
      d.login({0});
    d.run_until_quiet(
      [&] {
        return d.unsettled() == 0
               && (!sink_here || d.stats()[counter::delivered] >= p.count);
      },
      stall);
    return d.barrier("drained") ? 0 : 1;
  };
  if (!c.start(slices, work))
    return fail(c, "starting");
  auto reg = coordinator_prelude(c, ctx);
  if (!reg)
    return fail(c, "registration");
  c.set_phase("login");
  c.go_all("registered");
  if (!c.wait_all("logged-in"))
    return fail(c, "login");
  auto start = now_ns() + ns_of(p.start_delay);
  c.go_all("logged-in", std::to_string(start));
  c.idle_until(start);
  c.reset_peak();
  cpu_window storing;
  storing.begin(c);
  c.set_phase("storing");
  auto stored = c.wait_all("stored");
  if (!stored)
    return fail(c, "storing");
  storing.end(c);
  auto peak_storing = c.peak_rss_kb();
  c.reset_peak();
  cpu_window draining;
  draining.begin(c);
  c.set_phase("draining");
  c.go_all("stored");
  auto drained = c.wait_all("drained");
  if (!drained)
    return fail(c, "draining");
  draining.end(c);
  auto peak_draining = c.peak_rss_kb();
  c.go_all("drained");
  auto final = c.collect();
  if (!final)
    return fail(c, "the run");

  auto store_ns = stored->at(mark::last_sent_tick) - start;
  auto stored_n = (*stored)[counter::sent_ticks];
  // The offline user's welcome is the last one: the drain starts there.
  auto welcome = drained->at(mark::last_welcome);
  auto drain_ns = drained->at(mark::last_deliver) - welcome;
  auto delivered = (*drained)[counter::delivered];
  sheet s(title(ctx, std::to_string(p.count) + " messages to an offline user from "
                       + std::to_string(senders) + " senders"));
  add_run(s, ctx, slices.size());
  s.count("messages", static_cast<int64_t>(p.count));
  s.count("senders", static_cast<int64_t>(senders));
  s.count("window", static_cast<int64_t>(p.window));
  add_registration(s, ctx, *reg);
  s.section("store_in");
  s.count("stored", static_cast<int64_t>(stored_n));
  s.number("seconds", seconds_of(store_ns), 3);
  s.number("stored_per_s", per_second(stored_n, store_ns), 0);
  add_cpu(s, "", storing, stored_n);
  if (storing.node_ok()) {
    s.number("node_rss_mb_before", mb(storing.node_from.rss_kb), 1);
    s.number("node_rss_mb_peak", mb(peak_storing), 1);
  }
  s.section("drain");
  s.count("delivered", static_cast<int64_t>(delivered));
  s.number("seconds", seconds_of(drain_ns), 3);
  s.number("delivered_per_s", per_second(delivered, drain_ns), 0);
  s.number("seconds_with_login",
           seconds_of(drained->at(mark::last_deliver) - draining.from_ns), 3);
  add_cpu(s, "", draining, delivered);
  if (draining.node_ok()) {
    s.number("node_rss_mb_peak", mb(peak_draining), 1);
    s.number("node_rss_mb_after", mb(draining.node_to.rss_kb), 1);
  }
  checks ch;
  add_messages(s, *final, ch);
  add_latencies(s, *final);
  add_connections(s, *final, ch);
  add_bench(s, *final);
  return conclude(s, ctx, c, ch);
}

} // namespace

int run_workload(const run_context& ctx) {
  auto& w = ctx.p.workload;
  if (w == "register")
    return run_register(ctx);
  if (w == "w1")
    return run_w1(ctx);
  if (w == "w2" || w == "w5")
    return run_pairs(ctx, false);
  if (w == "w3")
    return run_pairs(ctx, true);
  if (w == "w4")
    return run_w4(ctx);
  std::cerr << "parley-bench: no workload " << w << "\n";
  return 2;
}

} // namespace parley::bench
