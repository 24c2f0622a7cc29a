#include "tools/bench/coordinator.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <csignal>
#include <cstring>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace parley::bench {

namespace {

constexpr int64_t second_ns = 1'000'000'000;
constexpr int64_t sample_every_ns = 100'000'000;

double rusage_seconds(int who) {
  rusage ru{};
  ::getrusage(who, &ru);
  auto s = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

/// 1234567 -> "1,234,567"
std::string grouped(uint64_t n) {
  auto digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0)
      out += ',';
    out += digits[i];
  }
  return out;
}

/// Source addresses per load process (plan.hpp's slice says why).
constexpr uint32_t sources_per_process = 16;

} // namespace

std::vector<slice> make_slices(const plan& p, size_t users) {
  auto per = std::max<size_t>(1, p.max_per_process);
  auto procs = p.procs != 0 ? p.procs : (users + per - 1) / per;
  procs = std::clamp<size_t>(procs, 1, std::max<size_t>(1, users));
  std::vector<slice> out(procs);
  for (size_t i = 0; i < procs; ++i) {
    auto& s = out[i];
    s.index = i;
    s.begin = i * users / procs;
    s.end = (i + 1) * users / procs;
    s.bind_source = p.loopback;
    // 127.0.<i+1>.1, .2, ...: each worker its own addresses, each address its
    // own range of ephemeral ports.
    s.source.s_addr = htonl(0x7F000001u | (static_cast<uint32_t>(i + 1) << 8));
    s.sources = sources_per_process;
  }
  return out;
}

coordinator::coordinator(const plan& p, const user_set& users)
  : plan_(p), users_(users), tty_(::isatty(STDERR_FILENO) == 1) {
  // nop
}

coordinator::~coordinator() {
  abort_all();
  // A worker leaves its loop on abort; one that does not within 5 s is killed.
  auto deadline = now_ns() + 5 * second_ns;
  for (auto& w : workers_) {
    while (w.pid > 0) {
      int status = 0;
      if (::waitpid(w.pid, &status, WNOHANG) != 0) {
        w.pid = -1;
      } else if (now_ns() >= deadline) {
        ::kill(w.pid, SIGKILL);
        ::waitpid(w.pid, &status, 0);
        w.pid = -1;
      } else {
        ::usleep(10'000);
      }
    }
  }
}

bool coordinator::start(const std::vector<slice>& slices, const script& work) {
  std::fflush(stdout);
  std::fflush(stderr);
  for (auto& s : slices) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
      failure_ = std::string("socketpair: ") + std::strerror(errno);
      return false;
    }
    auto pid = ::fork();
    if (pid < 0) {
      failure_ = std::string("fork: ") + std::strerror(errno);
      ::close(fds[0]);
      ::close(fds[1]);
      return false;
    }
    if (pid == 0) {
      ::close(fds[0]);
      for (auto& w : workers_)
        w.channel = control_channel{};  // the other workers' channels
      int code = 1;
      {
        control_channel channel(fds[1]);
        driver d(plan_, users_, s, channel);
        if (d.ok())
          code = work(d);
        d.finish();
      }
      std::fflush(stdout);
      std::fflush(stderr);
      ::_exit(code);  // not the coordinator's destructors
    }
    ::close(fds[1]);
    worker w;
    w.pid = pid;
    w.channel = control_channel(fds[0]);
    workers_.push_back(std::move(w));
  }
  return true;
}

std::optional<report> coordinator::wait_all(const std::string& phase) {
  auto arrived = [&] {
    for (auto& w : workers_)
      if (w.arrivals.empty())
        return false;
    return true;
  };
  if (!serve(arrived, 0))
    return std::nullopt;
  report merged;
  for (auto& w : workers_) {
    if (w.arrivals.front().first != phase) {
      failure_ = "a worker arrived at " + w.arrivals.front().first + ", not " + phase;
      return std::nullopt;
    }
    merged.merge(w.arrivals.front().second);
    w.arrivals.pop_front();
  }
  return merged;
}

bool coordinator::go_all(const std::string& phase, const std::string& args) {
  auto line = "go " + phase + (args.empty() ? "" : " " + args);
  for (auto& w : workers_)
    if (!w.channel.send(line)) {
      if (failure_.empty())
        failure_ = "a worker is gone";
      return false;
    }
  return true;
}

bool coordinator::idle_until(int64_t until_ns) {
  return serve([] { return false; }, until_ns);
}

std::optional<report> coordinator::collect() {
  auto all = [&] {
    for (auto& w : workers_)
      if (!w.has_result && w.open)
        return false;
    return true;
  };
  serve(all, 0);
  report merged;
  bool complete = true;
  for (auto& w : workers_) {
    if (w.pid > 0) {
      int status = 0;
      ::waitpid(w.pid, &status, 0);
      w.pid = -1;
    }
    complete = complete && w.has_result;
    merged.merge(w.result);
  }
  if (line_open_) {
    std::fputc('\n', stderr);
    line_open_ = false;
  }
  if (!complete) {
    if (failure_.empty())
      failure_ = "a worker ended without its report";
    return std::nullopt;
  }
  return merged;
}

void coordinator::abort_all() {
  for (auto& w : workers_)
    if (w.open)
      w.channel.send("abort");
}

void coordinator::set_phase(const std::string& label) {
  phase_ = label;
  phase_start_ns_ = now_ns();
}

proc_sample coordinator::node_now() const {
  return sample_processes(plan_.node_pids);
}

void coordinator::reset_peak() {
  peak_rss_kb_ = node_now().rss_kb;
}

double coordinator::bench_cpu_now() {
  double total = rusage_seconds(RUSAGE_SELF);
  for (auto& w : workers_) {
    if (w.pid > 0) {
      auto s = sample_process(w.pid);
      if (s.ok)
        w.cpu_seconds = s.cpu_seconds;
    }
    total += w.cpu_seconds;
  }
  return total;
}

bool coordinator::serve(const std::function<bool()>& done, int64_t until_ns) {
  std::vector<pollfd> fds;
  for (;;) {
    if (!failure_.empty())
      return false;
    if (done())
      return true;
    auto now = now_ns();
    if (until_ns != 0 && now >= until_ns)
      return true;
    if (now >= next_sample_ns_) {
      next_sample_ns_ = now + sample_every_ns;
      sample(now);
    }
    if (now >= next_print_ns_) {
      next_print_ns_ = now + second_ns;
      print_progress(now);
    }
    auto wake = std::min(next_sample_ns_, next_print_ns_);
    if (until_ns != 0)
      wake = std::min(wake, until_ns);
    fds.clear();
    for (auto& w : workers_)
      fds.push_back({w.open ? w.channel.fd() : -1, POLLIN, 0});
    auto wait_ms = std::max<int64_t>(0, (wake - now + 999'999) / 1'000'000);
    int n = ::poll(fds.data(), fds.size(), static_cast<int>(wait_ms));
    if (n < 0 && errno != EINTR) {
      failure_ = std::string("poll: ") + std::strerror(errno);
      return false;
    }
    for (size_t i = 0; n > 0 && i < workers_.size(); ++i) {
      if (fds[i].revents == 0)
        continue;
      auto& w = workers_[i];
      bool open = w.channel.receive();
      while (auto line = w.channel.next_line())
        on_line(w, *line);
      if (!open) {
        w.open = false;
        if (!w.has_result && failure_.empty())
          failure_ = "worker " + std::to_string(i) + " ended unexpectedly";
      }
    }
  }
}

void coordinator::on_line(worker& w, const std::string& line) {
  auto [word, rest] = split_word(line);
  if (word == "progress") {
    w.progress.parse(rest);
  } else if (word == "arrive") {
    auto [phase, figures] = split_word(rest);
    report arrival;
    if (!arrival.parse(figures) && failure_.empty())
      failure_ = "a worker's figures do not parse";
    w.progress.counts = arrival.counts;
    w.arrivals.emplace_back(std::string(phase), std::move(arrival));
  } else if (word == "result") {
    if (!w.result.parse(rest) && failure_.empty())
      failure_ = "a worker's report does not parse";
    w.progress.counts = w.result.counts;
    w.has_result = true;
  } else if (word == "fail") {
    if (failure_.empty())
      failure_ = std::string(rest);
  } else if (word == "note") {
    notes_.emplace_back(rest);
    if (!plan_.quiet) {
      if (line_open_) {
        std::fputc('\n', stderr);
        line_open_ = false;
      }
      std::fprintf(stderr, "parley-bench: %.*s\n", static_cast<int>(rest.size()),
                   rest.data());
    }
  }
}

void coordinator::sample(int64_t) {
  if (!node_known())
    return;
  auto s = node_now();
  if (s.ok)
    peak_rss_kb_ = std::max(peak_rss_kb_, s.rss_kb);
}

void coordinator::print_progress(int64_t now) {
  report sum;
  for (auto& w : workers_)
    sum.merge(w.progress);
  auto node = node_now();
  auto bench_cpu = bench_cpu_now();
  double dt = last_print_ns_ == 0 ? 0 : static_cast<double>(now - last_print_ns_) / 1e9;
  auto rate = [&](counter c) -> uint64_t {
    if (dt <= 0 || sum[c] < last_counts_[c])
      return 0;
    return static_cast<uint64_t>(static_cast<double>(sum[c] - last_counts_[c]) / dt);
  };
  if (!plan_.quiet && last_print_ns_ != 0) {
    char line[512];
    int len = std::snprintf(
      line, sizeof(line),
      "%s %-9s %6.1fs | in %s | sent %s/s | delivered %s/s | ticks %s/s %s/s",
      plan_.workload.c_str(), phase_.c_str(),
      static_cast<double>(now - phase_start_ns_) / 1e9, grouped(sum[counter::logins]).c_str(),
      grouped(rate(counter::sends)).c_str(), grouped(rate(counter::delivered)).c_str(),
      grouped(rate(counter::sent_ticks)).c_str(),
      grouped(rate(counter::delivered_ticks)).c_str());
    std::string text(line, static_cast<size_t>(std::max(0, len)));
    if (node.ok && dt > 0) {
      std::snprintf(line, sizeof(line), " | node %.0f MB %.0f%%",
                    static_cast<double>(node.rss_kb) / 1024.0,
                    100.0 * (node.cpu_seconds - last_node_cpu_) / dt);
      text += line;
    }
    if (dt > 0) {
      std::snprintf(line, sizeof(line), " | bench %.0f%%",
                    100.0 * (bench_cpu - last_bench_cpu_) / dt);
      text += line;
    }
    if (sum[counter::errors] > 0)
      text += " | errors " + grouped(sum[counter::errors]);
    if (tty_) {
      std::fprintf(stderr, "\r%s\033[K", text.c_str());
      line_open_ = true;
    } else {
      std::fprintf(stderr, "%s\n", text.c_str());
    }
    std::fflush(stderr);
  }
  last_print_ns_ = now;
  last_counts_ = sum;
  last_node_cpu_ = node.cpu_seconds;
  last_bench_cpu_ = bench_cpu;
}

} // namespace parley::bench
