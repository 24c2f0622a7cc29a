// The key directory on the home node: prekeys are kept as opaque records,
// each one-time prekey is handed out once, and owners hear when to publish more.

#include "support/node_process.hpp"
#include "support/temp_dir.hpp"
#include "support/users.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace parley;
using namespace parley::test;
using namespace std::chrono_literals;

TEST_CASE("key directory: each one-time prekey is handed out once") {
  temp_dir dir;
  node_process node{dir.path()};
  node.start();
  auto alice = register_user(node, "alice");
  auto bob = register_user(node, "bob");
  auto b = login(node, bob);
  auto none = b->publish_keys({}, {});
  REQUIRE(none);
  CHECK(none->remaining == 0);
  CHECK_FALSE(none->has_signed_prekey);
  auto published = b->publish_keys("bob-signed-prekey", {"otk-1", "otk-2", "otk-3"});
  REQUIRE(published);
  CHECK(published->remaining == 3);
  CHECK(published->has_signed_prekey);

  auto a = login(node, alice);
  std::set<std::string> handed_out;
  for (int i = 0; i < 3; ++i) {
    auto bundle = a->fetch_bundle("bob");
    REQUIRE(bundle);
    CHECK(bundle->identity_key == bob.id.public_key());
    CHECK(bundle->signed_prekey == "bob-signed-prekey");
    handed_out.insert(bundle->one_time_prekey);
  }
  CHECK(handed_out == std::set<std::string>{"otk-1", "otk-2", "otk-3"});
  auto exhausted = a->fetch_bundle("bob");
  REQUIRE(exhausted);
  CHECK(exhausted->one_time_prekey.empty());  // still a bundle, without one

  // alice published nothing; nobody at all is unknown.
  auto no_keys = b->fetch_bundle("alice");
  REQUIRE_FALSE(no_keys);
  CHECK(no_keys.error().code == wire::ErrorCode::NO_PREKEYS);
  auto unknown = b->fetch_bundle("nobody");
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().code == wire::ErrorCode::UNKNOWN_USER);

  // Handed out is gone, also after a restart.
  b.reset();
  a.reset();
  REQUIRE(node.stop() == 0);
  node.start();
  a = login(node, alice);
  auto after = a->fetch_bundle("bob");
  REQUIRE(after);
  CHECK(after->one_time_prekey.empty());
}

TEST_CASE("key directory: an owner with few one-time prekeys is told at login") {
  temp_dir dir;
  node_process node{dir.path()};
  node.start();
  auto bob = register_user(node, "bob");
  {
    auto b = login(node, bob);
    REQUIRE(b->publish_keys("spk", {"otk-1"}));
  }
  auto b = login(node, bob);
  bool told = false;
  for (int i = 0; i < 20 && !told; ++i) {
    auto e = b->next_event(500ms);
    REQUIRE(e);
    if (*e)
      if (auto low = std::get_if<client::prekeys_low>(&**e))
        told = low->remaining == 1;
  }
  CHECK(told);
}

TEST_CASE("key directory: the supply per user is capped") {
  temp_dir dir;
  node_process node{dir.path(), {"--parley.max-prekeys=4"}};
  node.start();
  auto bob = register_user(node, "bob");
  auto b = login(node, bob);
  REQUIRE(b->publish_keys("spk", {"1", "2", "3"}));
  auto over = b->publish_keys({}, {"4", "5"});
  REQUIRE_FALSE(over);
  CHECK(over.error().code == wire::ErrorCode::LIMIT_EXCEEDED);
}
