#include "tools/bench/sheet.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace parley::bench {

namespace {

std::string fixed(double value, int decimals) {
  if (!std::isfinite(value))
    return "null";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, value);
  return buf;
}

/// Thousands separated by commas, for the table only.
std::string grouped(const std::string& digits) {
  auto dot = digits.find('.');
  auto whole = digits.substr(0, dot);
  bool negative = !whole.empty() && whole[0] == '-';
  if (negative)
    whole.erase(0, 1);
  std::string out;
  for (size_t i = 0; i < whole.size(); ++i) {
    if (i > 0 && (whole.size() - i) % 3 == 0)
      out += ',';
    out += whole[i];
  }
  return (negative ? "-" : "") + out
         + (dot == std::string::npos ? "" : digits.substr(dot));
}

} // namespace

std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

void sheet::section(const std::string& name) {
  parts_.push_back({name, {}});
}

void sheet::add(const std::string& key, std::string json, std::string shown) {
  if (parts_.empty())
    section("run");
  parts_.back().entries.push_back({key, std::move(json), std::move(shown)});
}

void sheet::count(const std::string& key, int64_t value) {
  auto digits = std::to_string(value);
  add(key, digits, grouped(digits));
}

void sheet::number(const std::string& key, double value, int decimals,
                   const std::string& unit) {
  auto digits = fixed(value, decimals);
  add(key, digits, digits == "null" ? "-" : grouped(digits) + (unit.empty() ? "" : " " + unit));
}

void sheet::text(const std::string& key, const std::string& value) {
  add(key, json_quote(value), value);
}

void sheet::latency(const std::string& key, const histogram& h) {
  auto ms = [&](double percent) {
    return static_cast<double>(h.percentile(percent)) / 1e6;
  };
  std::string json = "{\"count\":" + std::to_string(h.count())
                     + ",\"p50\":" + fixed(ms(50), 3) + ",\"p90\":" + fixed(ms(90), 3)
                     + ",\"p99\":" + fixed(ms(99), 3) + ",\"p999\":" + fixed(ms(99.9), 3)
                     + ",\"max\":" + fixed(static_cast<double>(h.max()) / 1e6, 3)
                     + ",\"mean\":" + fixed(h.mean() / 1e6, 3) + "}";
  std::string shown =
    h.count() == 0
      ? "-"
      : "p50 " + fixed(ms(50), 3) + "  p90 " + fixed(ms(90), 3) + "  p99 "
          + fixed(ms(99), 3) + "  p99.9 " + fixed(ms(99.9), 3) + "  max "
          + fixed(static_cast<double>(h.max()) / 1e6, 3) + " ms  (n " + grouped(std::to_string(h.count())) + ")";
  add(key, std::move(json), std::move(shown));
}

std::string sheet::table() const {
  size_t width = 0;
  for (auto& p : parts_)
    for (auto& e : p.entries)
      width = std::max(width, e.key.size());
  std::string out = title_ + "\n";
  for (auto& p : parts_) {
    out += "\n" + p.name + "\n";
    for (auto& e : p.entries)
      out += "  " + e.key + std::string(width - e.key.size() + 2, ' ') + e.shown + "\n";
  }
  return out;
}

std::string sheet::json() const {
  std::string out = "{\"title\":" + json_quote(title_);
  for (auto& p : parts_) {
    out += "," + json_quote(p.name) + ":{";
    bool first = true;
    for (auto& e : p.entries) {
      out += (first ? "" : ",") + json_quote(e.key) + ":" + e.json;
      first = false;
    }
    out += "}";
  }
  return out + "}";
}

} // namespace parley::bench
