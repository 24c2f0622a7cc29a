// The heartbeats the listener gathers for presence: one batch per presence
// actor, in the order the users beat, sent once.

#include "actors/session/presence_beats.hpp"

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

using parley::presence_beats;

namespace {

using sent = std::vector<std::pair<caf::actor, std::vector<std::string>>>;

sent flush(presence_beats& beats) {
  sent out;
  beats.flush([&](const caf::actor& presence, std::vector<std::string>&& users) {
    out.emplace_back(presence, std::move(users));
  });
  return out;
}

} // namespace

TEST_CASE("presence beats go out as one batch per presence actor, once") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  caf::scoped_actor home1{sys};
  caf::scoped_actor home2{sys};
  caf::actor p1 = caf::actor_cast<caf::actor>(home1);
  caf::actor p2 = caf::actor_cast<caf::actor>(home2);
  presence_beats beats;
  CHECK(flush(beats).empty());

  beats.add(p1, "alice");
  beats.add(p2, "bob");
  beats.add(p1, "carol");
  CHECK(beats.size() == 3);
  auto first = flush(beats);
  REQUIRE(first.size() == 2);
  CHECK(first[0].first == p1);
  CHECK(first[0].second == std::vector<std::string>{"alice", "carol"});
  CHECK(first[1].first == p2);
  CHECK(first[1].second == std::vector<std::string>{"bob"});
  CHECK(beats.size() == 0);
  CHECK(flush(beats).empty());

  beats.add(p2, "dave");
  auto second = flush(beats);
  REQUIRE(second.size() == 1);
  CHECK(second[0].first == p2);
  CHECK(second[0].second == std::vector<std::string>{"dave"});
}
