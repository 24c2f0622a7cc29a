// How parley-media's flags spell sizes and durations: "2GiB", "100MiB", "512k"
// (binary units; a bare number is bytes) and "30d", "12h", "10m", "90s".
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace parley::media {

/// Bytes; k/KiB, M/MiB, G/GiB, T/TiB (any case, "B" optional) are powers of 1024.
std::optional<uint64_t> parse_size(std::string_view text);

/// A positive whole number of s, m, h or d; a bare number is seconds.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);

} // namespace parley::media
