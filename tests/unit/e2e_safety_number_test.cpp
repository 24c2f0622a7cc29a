// Safety numbers: the same 60 digits on both sides, different when a key or a
// name differs, and pinned to known_answers.py's independent computation.
#include "tools/client/e2e/safety_number.hpp"
#include "tools/client/message_id.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>

using namespace parley;
using namespace parley::e2e;

namespace {

public_key key_of(std::string_view hex) {
  auto bytes = from_hex(hex);
  REQUIRE(bytes);
  auto k = to_public_key(*bytes);
  REQUIRE(k);
  return *k;
}

} // namespace

TEST_CASE("e2e safety number - both sides compute the same 60 digits") {
  auto alice = identity_key_pair::generate().ed25519_public();
  auto bob = identity_key_pair::generate().ed25519_public();
  auto seen_by_alice = safety_number(alice, "alice", bob, "bob");
  auto seen_by_bob = safety_number(bob, "bob", alice, "alice");
  CHECK(seen_by_alice == seen_by_bob);
  REQUIRE(seen_by_alice.size() == 60);
  CHECK(std::all_of(seen_by_alice.begin(), seen_by_alice.end(),
                    [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }));
  auto shown = format_safety_number(seen_by_alice);
  CHECK(shown.size() == 60 + 11);
  CHECK(shown.substr(0, 6) == seen_by_alice.substr(0, 5) + " ");

  // A new identity key (a reinstall, or someone in the middle) changes it, and
  // so does a different user name with the same key.
  auto mallory = identity_key_pair::generate().ed25519_public();
  CHECK(safety_number(alice, "alice", mallory, "bob") != seen_by_alice);
  CHECK(safety_number(alice, "alice", bob, "bobby") != seen_by_alice);
  CHECK(safety_number_half(bob, "bob") != safety_number_half(bob, "bobby"));
}

TEST_CASE("e2e safety number - matches an independent implementation") {
  // IK_A and IK_B of tools/client/e2e/known_answers.py.
  auto alice = key_of("79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664");
  auto bob = key_of("e7f162a10bec559afea195e4dce84b69568d5d2cb0963eb446c0685e2b17f2f0");
  CHECK(safety_number(alice, "alice", bob, "bob")
        == "442437572481949464885396428842991166093238882674035656855072");
}
