// Safety numbers: 60 decimal digits that two users compare (read aloud, or side
// by side) to check that each has the other's real identity key and no server
// put itself in the middle. Built like Signal's numeric fingerprints
// (docs/e2e.md): each side's half is 30 digits from 5200 rounds of SHA-512 over
// its identity key and user name; the halves are shown in a fixed order, so both
// users see the same number.
#pragma once

#include "tools/client/e2e/keys.hpp"

#include <string>
#include <string_view>

namespace parley::e2e {

/// SHA-512 rounds per half.
inline constexpr int safety_number_iterations = 5200;

/// One user's 30 digits: the first 30 bytes of
///   h = SHA-512(0x00 0x00 || Encode(IK) || user), then 5200 times
///   h = SHA-512(h || Encode(IK)),
/// read as six 5-byte big-endian numbers, each mod 100000, as 5 digits.
std::string safety_number_half(const public_key& identity_key, std::string_view user);

/// The 60 digits for a conversation between two users: the two halves, the
/// smaller first. The same whichever side computes it.
std::string safety_number(const public_key& local_identity, std::string_view local_user,
                          const public_key& remote_identity, std::string_view remote_user);

/// "12345 67890 ..." : groups of five digits, for display.
std::string format_safety_number(std::string_view digits);

} // namespace parley::e2e
