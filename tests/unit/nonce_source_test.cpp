// Login challenges' nonces: never the same twice, different per source, and
// the liveness jitter stays in its range and covers it.

#include "actors/session/nonce_source.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <string>

using parley::nonce_source;

namespace {

std::string draw(nonce_source& source, size_t size) {
  std::string out(size, '\0');
  source.fill(reinterpret_cast<unsigned char*>(out.data()), out.size());
  return out;
}

} // namespace

TEST_CASE("a nonce source never gives the same 32 bytes twice", "[nonce]") {
  nonce_source source;
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i)
    REQUIRE(seen.insert(draw(source, 32)).second);
}

TEST_CASE("two nonce sources draw different keys", "[nonce]") {
  nonce_source a;
  nonce_source b;
  CHECK(draw(a, 32) != draw(b, 32));
}

TEST_CASE("a nonce source's draws of any size are not all zero", "[nonce]") {
  nonce_source source;
  for (size_t size : {1u, 7u, 64u, 65u, 200u}) {
    auto bytes = draw(source, size);
    REQUIRE(bytes.size() == size);
    CHECK(bytes.find_first_not_of('\0') != std::string::npos);
  }
}

TEST_CASE("a nonce source's numbers below a bound stay below it and cover it",
          "[nonce]") {
  nonce_source source;
  std::set<uint64_t> seen;
  for (int i = 0; i < 2000; ++i) {
    auto x = source.below(10);
    REQUIRE(x < 10);
    seen.insert(x);
  }
  CHECK(seen.size() == 10);
  CHECK(source.below(1) == 0);
}
