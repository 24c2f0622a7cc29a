// A run's results as a table for people or one JSON object for programs: named
// sections of named values, in the order they were added.
#pragma once

#include "tools/bench/histogram.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace parley::bench {

class sheet {
public:
  explicit sheet(std::string title) : title_(std::move(title)) {}

  /// Later values go into this section.
  void section(const std::string& name);

  void count(const std::string& key, int64_t value);
  void number(const std::string& key, double value, int decimals,
              const std::string& unit = {});
  void text(const std::string& key, const std::string& value);
  /// Percentiles in milliseconds, and the number of samples.
  void latency(const std::string& key, const histogram& h);

  std::string table() const;
  std::string json() const;

private:
  struct entry {
    std::string key;
    std::string json;   // a JSON value
    std::string shown;  // for the table
  };
  struct part {
    std::string name;
    std::vector<entry> entries;
  };

  void add(const std::string& key, std::string json, std::string shown);

  std::string title_;
  std::vector<part> parts_;
};

/// `s` as a JSON string literal.
std::string json_quote(const std::string& s);

} // namespace parley::bench
