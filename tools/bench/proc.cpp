#include "tools/bench/proc.hpp"

#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <string>
#include <time.h>
#include <unistd.h>

namespace parley::bench {

int64_t now_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

proc_sample sample_process(pid_t pid) {
  proc_sample s;
  auto base = "/proc/" + std::to_string(pid);
  {
    std::ifstream in(base + "/status");
    std::string key;
    uint64_t value = 0;
    int found = 0;
    for (std::string line; std::getline(in, line);) {
      std::istringstream fields(line);
      if (!(fields >> key >> value))
        continue;
      if (key == "VmRSS:") {
        s.rss_kb = value;
        ++found;
      } else if (key == "VmHWM:") {
        s.peak_kb = value;
        ++found;
      }
    }
    if (found != 2)
      return s;
  }
  std::ifstream in(base + "/stat");
  std::string stat;
  std::getline(in, stat);
  // The command name may hold spaces and parentheses: fields follow the last ')'.
  auto close = stat.rfind(')');
  if (close == std::string::npos)
    return s;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  // After the name: state is field 3; utime and stime are fields 14 and 15.
  uint64_t utime = 0;
  uint64_t stime = 0;
  for (int i = 3; i <= 15; ++i) {
    if (!(fields >> field))
      return s;
    if (i == 14)
      utime = std::strtoull(field.c_str(), nullptr, 10);
    else if (i == 15)
      stime = std::strtoull(field.c_str(), nullptr, 10);
  }
  s.cpu_seconds = static_cast<double>(utime + stime)
                  / static_cast<double>(::sysconf(_SC_CLK_TCK));
  s.ok = true;
  return s;
}

proc_sample sample_processes(const std::vector<pid_t>& pids) {
  proc_sample sum;
  sum.ok = !pids.empty();
  for (auto pid : pids) {
    auto s = sample_process(pid);
    sum.ok = sum.ok && s.ok;
    sum.rss_kb += s.rss_kb;
    sum.peak_kb += s.peak_kb;
    sum.cpu_seconds += s.cpu_seconds;
  }
  return sum;
}

namespace {

/// Inodes of sockets listening on `port`, from one of /proc/net/tcp{,6}.
void listening_inodes(const char* table, uint16_t port, std::vector<std::string>& out) {
  std::ifstream in(table);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout,
      inode;
    if (!(fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits
          >> uid >> timeout >> inode))
      continue;
    if (state != "0A")  // TCP_LISTEN
      continue;
    auto colon = local.rfind(':');
    if (colon == std::string::npos)
      continue;
    if (std::strtoul(local.c_str() + colon + 1, nullptr, 16) == port)
      out.push_back("socket:[" + inode + "]");
  }
}

} // namespace

std::optional<pid_t> find_listener(uint16_t port) {
  std::vector<std::string> wanted;
  listening_inodes("/proc/net/tcp", port, wanted);
  listening_inodes("/proc/net/tcp6", port, wanted);
  if (wanted.empty())
    return std::nullopt;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr)
    return std::nullopt;
  std::optional<pid_t> found;
  while (auto* entry = ::readdir(proc)) {
    char* end = nullptr;
    auto pid = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || pid <= 0)
      continue;
    auto fd_dir = "/proc/" + std::string(entry->d_name) + "/fd";
    DIR* fds = ::opendir(fd_dir.c_str());
    if (fds == nullptr)
      continue;  // another user's process
    while (auto* fd = ::readdir(fds)) {
      char target[64];
      auto path = fd_dir + "/" + fd->d_name;
      auto n = ::readlink(path.c_str(), target, sizeof(target) - 1);
      if (n <= 0)
        continue;
      target[n] = '\0';
      for (auto& w : wanted)
        if (w == target)
          found = static_cast<pid_t>(pid);
      if (found)
        break;
    }
    ::closedir(fds);
    if (found)
      break;
  }
  ::closedir(proc);
  return found;
}

} // namespace parley::bench
