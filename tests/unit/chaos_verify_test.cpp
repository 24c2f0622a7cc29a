// The chaos test's verdict must catch each kind of failure it claims to.

#include "tests/chaos/verify.hpp"
#include "tools/client/message_id.hpp"

#include <catch2/catch.hpp>

using namespace parley;
using namespace parley::chaos;
using client::stored_message;
using client::tick_state;

namespace {

stored_message ours(const std::string& from, const std::string& to, uint64_t n,
                    tick_state state = tick_state::delivered) {
  stored_message m;
  m.peer = to;
  m.outgoing = true;
  m.id = new_message_id();
  m.body = chaos_body(from, to, n);
  m.state = state;
  return m;
}

stored_message theirs(const std::string& from, const std::string& to, uint64_t n) {
  stored_message m;
  m.peer = from;
  m.outgoing = false;
  m.id = new_message_id();
  m.body = chaos_body(from, to, n);
  m.state = tick_state::received;
  return m;
}

/// a sent b three messages, all delivered and stored in order.
struct scene {
  created_counts created{{{"a", "b"}, 3}};
  std::vector<device_view> devices{
    {"a", {ours("a", "b", 0), ours("a", "b", 1), ours("a", "b", 2)}},
    {"b", {theirs("a", "b", 0), theirs("a", "b", 1), theirs("a", "b", 2)}},
  };
};

} // namespace

TEST_CASE("chaos verdict: everything once, in order, delivered - passes") {
  scene s;
  auto v = verify(s.created, s.devices);
  CHECK(v.created == 3);
  CHECK(v.delivered == 3);
  CHECK(v.received == 3);
  CHECK(v.passed());
}

TEST_CASE("chaos verdict: catches duplicates, losses, reordering, strangers, missing ticks") {
  SECTION("a duplicate") {
    scene s;
    s.devices[1].messages.push_back(theirs("a", "b", 2));
    auto v = verify(s.created, s.devices);
    CHECK(v.duplicates == 1);
    CHECK_FALSE(v.passed());
  }
  SECTION("a loss") {
    scene s;
    s.devices[1].messages.erase(s.devices[1].messages.begin() + 1);
    auto v = verify(s.created, s.devices);
    CHECK(v.lost == 1);
    CHECK(v.received == 2);
    CHECK_FALSE(v.passed());
  }
  SECTION("reordering") {
    scene s;
    std::swap(s.devices[1].messages[0], s.devices[1].messages[2]);
    auto v = verify(s.created, s.devices);
    CHECK(v.out_of_order == 2);
    CHECK(v.duplicates == 0);
    CHECK(v.lost == 0);
    CHECK_FALSE(v.passed());
  }
  SECTION("a message nobody created, or for someone else") {
    scene s;
    s.devices[1].messages.push_back(theirs("a", "b", 3));
    s.devices[1].messages.push_back(theirs("a", "c", 0));
    auto v = verify(s.created, s.devices);
    CHECK(v.unexpected == 2);
    CHECK_FALSE(v.passed());
  }
  SECTION("a sender that never saw the delivered tick") {
    scene s;
    s.devices[0].messages[1].state = tick_state::sent;
    auto v = verify(s.created, s.devices);
    CHECK(v.delivered == 2);
    CHECK_FALSE(v.passed());
  }
  SECTION("read counts as delivered") {
    scene s;
    s.devices[0].messages[1].state = tick_state::read;
    CHECK(verify(s.created, s.devices).passed());
  }
}
