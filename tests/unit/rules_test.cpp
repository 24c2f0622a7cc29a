#include "schema/errors.hpp"
#include "schema/rules.hpp"

#include <catch2/catch.hpp>

using namespace parley;

TEST_CASE("user names are 1 to 32 characters of a-z 0-9 and ._-") {
  CHECK(valid_user_name("alice"));
  CHECK(valid_user_name("a"));
  CHECK(valid_user_name("bob.smith_2-x"));
  CHECK(valid_user_name(std::string(32, 'z')));
  CHECK_FALSE(valid_user_name(""));
  CHECK_FALSE(valid_user_name(std::string(33, 'z')));
  CHECK_FALSE(valid_user_name("Alice"));
  CHECK_FALSE(valid_user_name("al ice"));
  CHECK_FALSE(valid_user_name("al/ice"));
  CHECK_FALSE(valid_user_name(std::string("al\0ce", 5)));
}

TEST_CASE("error codes have their schema names") {
  CHECK(to_string(wire::ErrorCode::NAME_TAKEN) == "nameTaken");
  CHECK(to_string(wire::ErrorCode::FRAME_TOO_LARGE) == "frameTooLarge");
  CHECK(to_string(static_cast<wire::ErrorCode>(999)) == "unknown");
  CHECK(retryable(wire::ErrorCode::UNAVAILABLE));
  CHECK_FALSE(retryable(wire::ErrorCode::BAD_SIGNATURE));
}
