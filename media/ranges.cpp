#include "media/ranges.hpp"

#include <charconv>

namespace parley::media {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

/// Digits only (no sign, no spaces), fitting in 64 bits.
std::optional<uint64_t> number(std::string_view s) {
  if (s.empty())
    return std::nullopt;
  uint64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size())
    return std::nullopt;
  return value;
}

} // namespace

range_request parse_range(std::string_view header, uint64_t size) {
  range_request whole;
  header = trim(header);
  constexpr std::string_view unit = "bytes=";
  if (header.substr(0, unit.size()) != unit)
    return whole;
  auto spec = trim(header.substr(unit.size()));
  if (spec.find(',') != std::string_view::npos)
    return whole;
  auto dash = spec.find('-');
  if (dash == std::string_view::npos)
    return whole;
  auto first_text = trim(spec.substr(0, dash));
  auto last_text = trim(spec.substr(dash + 1));
  range_request out;
  out.what = range_request::kind::partial;
  if (first_text.empty()) {
    // A suffix: the last n bytes.
    auto n = number(last_text);
    if (!n)
      return whole;
    if (*n == 0 || size == 0) {
      out.what = range_request::kind::unsatisfiable;
      return out;
    }
    out.range = {*n >= size ? 0 : size - *n, size - 1};
    return out;
  }
  auto first = number(first_text);
  if (!first)
    return whole;
  uint64_t last = UINT64_MAX;
  if (!last_text.empty()) {
    auto l = number(last_text);
    if (!l || *l < *first)
      return whole;  // invalid syntax: ignored, as RFC 9110 says
    last = *l;
  }
  if (*first >= size) {
    out.what = range_request::kind::unsatisfiable;
    return out;
  }
  out.range = {*first, last >= size ? size - 1 : last};
  return out;
}

std::optional<content_range> parse_content_range(std::string_view header) {
  header = trim(header);
  constexpr std::string_view unit = "bytes ";
  if (header.substr(0, unit.size()) != unit)
    return std::nullopt;
  auto spec = trim(header.substr(unit.size()));
  auto dash = spec.find('-');
  auto slash = spec.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash)
    return std::nullopt;
  auto first = number(spec.substr(0, dash));
  auto last = number(spec.substr(dash + 1, slash - dash - 1));
  auto total = number(spec.substr(slash + 1));
  if (!first || !last || !total || *first > *last || *last >= *total)
    return std::nullopt;
  return content_range{{*first, *last}, *total};
}

} // namespace parley::media
