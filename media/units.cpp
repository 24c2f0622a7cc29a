#include "media/units.hpp"

#include <cctype>
#include <charconv>
#include <string>

namespace parley::media {

namespace {

/// The leading digits of `text` and what follows them.
std::optional<std::pair<uint64_t, std::string>> split_number(std::string_view text) {
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end == text.data())
    return std::nullopt;
  std::string unit(end, text.data() + text.size());
  for (auto& c : unit)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return std::make_pair(value, unit);
}

} // namespace

std::optional<uint64_t> parse_size(std::string_view text) {
  auto parts = split_number(text);
  if (!parts)
    return std::nullopt;
  auto [value, unit] = *parts;
  if (!unit.empty() && unit.back() == 'b')
    unit.pop_back();
  if (unit.size() == 2 && unit[1] == 'i')
    unit.pop_back();
  int shift = 0;
  if (unit.empty())
    shift = 0;
  else if (unit == "k")
    shift = 10;
  else if (unit == "m")
    shift = 20;
  else if (unit == "g")
    shift = 30;
  else if (unit == "t")
    shift = 40;
  else
    return std::nullopt;
  if (shift > 0 && value > (UINT64_MAX >> shift))
    return std::nullopt;
  return value << shift;
}

std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
  auto parts = split_number(text);
  if (!parts || parts->first == 0)
    return std::nullopt;
  auto [value, unit] = *parts;
  int64_t factor = 0;
  if (unit.empty() || unit == "s")
    factor = 1;
  else if (unit == "m")
    factor = 60;
  else if (unit == "h")
    factor = 3600;
  else if (unit == "d")
    factor = 86400;
  else
    return std::nullopt;
  if (value > static_cast<uint64_t>(INT64_MAX / factor))
    return std::nullopt;
  return std::chrono::seconds(static_cast<int64_t>(value) * factor);
}

} // namespace parley::media
