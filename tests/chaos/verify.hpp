// The chaos test's verdict: compares what the clients created with what their
// device stores hold at the end.
//
// Each message the driver creates has the body "chaos FROM TO N", N counting
// the messages from FROM to TO from 0. At the end every created message must be
// in TO's store exactly once, the messages from FROM in the order of N, and
// FROM's own copy must carry the delivered tick (or read).
#pragma once

#include "tools/client/device_store.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace parley::chaos {

/// The body of message `number` from `from` to `to`.
std::string chaos_body(const std::string& from, const std::string& to, uint64_t number);

/// One device's store, read at the end.
struct device_view {
  std::string user;
  std::vector<client::stored_message> messages;  // in local order
};

/// How many messages the driver created, per (from, to).
using created_counts = std::map<std::pair<std::string, std::string>, uint64_t>;

struct verdict {
  uint64_t created = 0;
  uint64_t delivered = 0;     ///< created, and its sender's copy has the delivered tick
  uint64_t received = 0;      ///< created, and in its recipient's store at least once
  uint64_t duplicates = 0;    ///< copies beyond the first in a recipient's store
  uint64_t lost = 0;          ///< created, and not in its recipient's store
  uint64_t out_of_order = 0;  ///< stored after a later message of the same sender
  uint64_t unexpected = 0;    ///< in a store, but never created (or not for this user)

  /// Nothing duplicated, lost, reordered or invented, and every sender saw
  /// every message delivered.
  bool passed() const noexcept {
    return duplicates == 0 && lost == 0 && out_of_order == 0 && unexpected == 0
           && delivered == created;
  }
};

verdict verify(const created_counts& created, const std::vector<device_view>& devices);

} // namespace parley::chaos
