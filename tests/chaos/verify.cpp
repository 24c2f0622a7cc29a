#include "tests/chaos/verify.hpp"

#include <optional>
#include <sstream>

namespace parley::chaos {

namespace {

struct parsed {
  std::string from;
  std::string to;
  uint64_t number = 0;
};

std::optional<parsed> parse_body(const std::string& body) {
  std::istringstream in(body);
  std::string tag;
  parsed p;
  if (!(in >> tag >> p.from >> p.to >> p.number) || tag != "chaos")
    return std::nullopt;
  std::string rest;
  if (in >> rest)
    return std::nullopt;
  return p;
}

} // namespace

std::string chaos_body(const std::string& from, const std::string& to, uint64_t number) {
  return "chaos " + from + " " + to + " " + std::to_string(number);
}

verdict verify(const created_counts& created, const std::vector<device_view>& devices) {
  verdict v;
  for (auto& [pair, n] : created)
    v.created += n;
  // (from, to) -> how often each number is in `to`'s store
  std::map<std::pair<std::string, std::string>, std::vector<uint64_t>> copies;
  for (auto& [pair, n] : created)
    copies[pair].assign(n, 0);
  for (auto& device : devices) {
    // from -> the highest number stored so far from that sender
    std::map<std::string, uint64_t> highest;
    for (auto& m : device.messages) {
      auto p = parse_body(m.body);
      if (m.outgoing) {
        // Our copy: does it have its delivered tick?
        if (!p || p->from != device.user || p->to != m.peer) {
          ++v.unexpected;
          continue;
        }
        auto i = created.find({p->from, p->to});
        if (i != created.end() && p->number < i->second
            && m.state >= client::tick_state::delivered)
          ++v.delivered;
        continue;
      }
      if (!p || p->to != device.user || p->from != m.peer) {
        ++v.unexpected;
        continue;
      }
      auto i = copies.find({p->from, p->to});
      if (i == copies.end() || p->number >= i->second.size()) {
        ++v.unexpected;
        continue;
      }
      if (++i->second[p->number] > 1)
        ++v.duplicates;
      auto h = highest.find(p->from);
      if (h != highest.end() && p->number < h->second)
        ++v.out_of_order;
      if (h == highest.end() || p->number > h->second)
        highest[p->from] = p->number;
    }
  }
  for (auto& [pair, counts] : copies)
    for (auto c : counts) {
      if (c == 0)
        ++v.lost;
      else
        ++v.received;
    }
  return v;
}

} // namespace parley::chaos
