#include "support/cluster.hpp"

#include "actors/cluster/rendezvous.hpp"
#include "support/port_claim.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace parley::test {

uint16_t free_port() {
  auto port = claim_some_port();
  if (port == 0)
    FAIL("no free port in 20000-32767");
  return port;
}

cluster::cluster(size_t n, std::vector<std::string> extra_args) {
  secret_file_ = dir_ / "cookie";
  {
    std::ofstream out(secret_file_);
    out << "test-cluster-secret-0123456789\n";
  }
  for (size_t i = 0; i < n; ++i) {
    names_.push_back(name(i));
    peer_ports_.push_back(free_port());
  }
  for (size_t i = 0; i < n; ++i) {
    auto folder = dir_ / names_[i];
    ::mkdir(folder.c_str(), 0700);
    auto args = member_args(i, secret_file_);
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    nodes_.push_back(std::make_unique<node_process>(folder, args));
  }
}

std::vector<std::string> cluster::member_args(size_t i,
                                              const std::string& secret_file) const {
  std::string members = "[";
  for (size_t j = 0; j < names_.size(); ++j) {
    if (j > 0)
      members += ",";
    members += "\"" + names_[j] + "@127.0.0.1:" + std::to_string(peer_ports_[j]) + "\"";
  }
  members += "]";
  return {"--cluster.name=" + names_[i], "--cluster.members=" + members,
          "--cluster.secret-file=" + secret_file};
}

void cluster::start() {
  for (auto& n : nodes_)
    n->start();
  for (size_t i = 0; i < nodes_.size(); ++i)
    for (size_t j = 0; j < nodes_.size(); ++j)
      if (i != j)
        await_up(i, j);
}

size_t cluster::home_of(const std::string& user) const {
  auto& home = rendezvous_home(names_, user);
  for (size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == home)
      return i;
  FAIL("no home");
  return 0;
}

std::string cluster::user_homed_on(size_t i, const std::string& prefix) const {
  for (int k = 0; k < 10000; ++k) {
    auto candidate = prefix + std::to_string(k);
    if (home_of(candidate) == i)
      return candidate;
  }
  FAIL("no name homed on " << names_[i]);
  return {};
}

void cluster::await_up(size_t i, size_t peer, size_t times) {
  auto needle = "cluster: " + names_.at(peer) + " is up";
  for (int k = 0; k < 1000; ++k) {
    auto log = nodes_.at(i)->log();
    size_t found = 0;
    for (auto pos = log.find(needle); pos != std::string::npos;
         pos = log.find(needle, pos + 1))
      ++found;
    if (found >= times)
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  FAIL(names_.at(i) << " never saw " << names_.at(peer) << " up:\n" << nodes_.at(i)->log());
}

} // namespace parley::test
