// The call state machine on its own: every phase with every signal from every
// party, the paths a call takes, and that a refused signal changes nothing.
#include "actors/call/call_machine.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace parley;
using kinds = wire::CallSignalKind;
using party = call_machine::party;
using phase = call_machine::phase;

namespace {

const std::vector<kinds> all_kinds{kinds::OFFER,  kinds::RINGING, kinds::ANSWER,
                                   kinds::ICE,    kinds::ACCEPT,  kinds::REJECT,
                                   kinds::BUSY,   kinds::HANGUP,  kinds::TIMEOUT};
const std::vector<party> all_parties{party::caller, party::callee, party::node};

/// A machine brought to `p` along the usual path.
call_machine at(phase p) {
  call_machine m;
  if (p == phase::idle)
    return m;
  REQUIRE(m.apply(party::caller, kinds::OFFER));
  if (p == phase::offered)
    return m;
  REQUIRE(m.apply(party::callee, kinds::RINGING));
  if (p == phase::ringing)
    return m;
  REQUIRE(m.apply(party::callee, kinds::ACCEPT));
  if (p == phase::active)
    return m;
  REQUIRE(m.apply(party::caller, kinds::HANGUP));
  return m;
}

/// What the machine allows: (phase, party, kind) -> the phase after, if allowed.
bool allowed(phase p, party who, kinds k, phase& next) {
  next = p;
  bool caller = who == party::caller;
  bool callee = who == party::callee;
  bool node = who == party::node;
  switch (p) {
    case phase::idle:
      next = phase::offered;
      return caller && k == kinds::OFFER;
    case phase::offered:
    case phase::ringing:
      switch (k) {
        case kinds::RINGING:
          next = phase::ringing;
          return callee && p == phase::offered;
        case kinds::ANSWER:
          return callee;
        case kinds::ICE:
          return caller || callee;
        case kinds::ACCEPT:
          next = phase::active;
          return callee;
        case kinds::REJECT:
        case kinds::BUSY:
          next = phase::ended;
          return callee;
        case kinds::HANGUP:
          next = phase::ended;
          return caller || callee;
        case kinds::TIMEOUT:
          next = phase::ended;
          return node;
        default:
          return false;
      }
    case phase::active:
      switch (k) {
        case kinds::ANSWER:
          return callee;
        case kinds::ICE:
          return caller || callee;
        case kinds::HANGUP:
          next = phase::ended;
          return caller || callee;
        default:
          return false;
      }
    case phase::ended:
      return false;
  }
  return false;
}

} // namespace

TEST_CASE("call machine: every signal from every party in every phase") {
  for (auto p : {phase::idle, phase::offered, phase::ringing, phase::active, phase::ended}) {
    for (auto who : all_parties) {
      for (auto k : all_kinds) {
        INFO("phase " << to_string(p) << ", party " << static_cast<int>(who) << ", kind "
                      << static_cast<int>(k));
        auto m = at(p);
        phase next;
        bool expected = allowed(p, who, k, next);
        CHECK(m.apply(who, k) == expected);
        // Refused: nothing changed. Allowed: the phase the table says.
        CHECK(m.current() == (expected ? next : p));
      }
    }
  }
}

TEST_CASE("call machine: the ways a call ends, and why") {
  SECTION("the callee rejects") {
    auto m = at(phase::ringing);
    REQUIRE(m.apply(party::callee, kinds::REJECT));
    CHECK(m.ended());
    CHECK(m.end_reason() == kinds::REJECT);
  }
  SECTION("the callee is busy before it rings") {
    auto m = at(phase::offered);
    REQUIRE(m.apply(party::callee, kinds::BUSY));
    CHECK(m.end_reason() == kinds::BUSY);
  }
  SECTION("nobody accepts in time") {
    auto m = at(phase::ringing);
    CHECK(m.unanswered());
    REQUIRE(m.apply(party::node, kinds::TIMEOUT));
    CHECK(m.end_reason() == kinds::TIMEOUT);
    CHECK_FALSE(m.unanswered());
  }
  SECTION("the caller cancels") {
    auto m = at(phase::offered);
    REQUIRE(m.apply(party::caller, kinds::HANGUP));
    CHECK(m.end_reason() == kinds::HANGUP);
  }
  SECTION("an accepted call has no timeout and ends by a hangup") {
    auto m = at(phase::offered);
    REQUIRE(m.apply(party::callee, kinds::ANSWER));
    REQUIRE(m.apply(party::caller, kinds::ICE));
    REQUIRE(m.apply(party::callee, kinds::ICE));
    REQUIRE(m.apply(party::callee, kinds::ACCEPT));
    CHECK_FALSE(m.unanswered());
    CHECK_FALSE(m.apply(party::node, kinds::TIMEOUT));
    REQUIRE(m.apply(party::callee, kinds::HANGUP));
    CHECK(m.ended());
    CHECK_FALSE(m.apply(party::caller, kinds::HANGUP));
  }
}
