// Wall-clock time as parley records it: milliseconds since the Unix epoch.
#pragma once

#include <cstdint>

namespace parley {

int64_t now_ms() noexcept;

} // namespace parley
