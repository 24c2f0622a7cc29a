#include "tools/shell/render.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <vector>

namespace parley::shell {

namespace {

using json = nlohmann::json;

std::string scalar(const json& x) {
  if (x.is_string())
    return x.get<std::string>();
  if (x.is_number_float()) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.1f", x.get<double>());
    return buf;
  }
  return x.dump();
}

bool flat(const json& x) {
  return !x.is_object() && !x.is_array();
}

void render_into(std::string& out, const json& x, const std::string& indent);

/// An array of objects with flat values: one row each, a column per key.
bool table(std::string& out, const json& rows, const std::string& indent) {
  if (!rows.is_array() || rows.empty())
    return false;
  std::vector<std::string> columns;
  for (auto& row : rows) {
    if (!row.is_object())
      return false;
    for (auto& [key, value] : row.items()) {
      if (!flat(value))
        return false;
      if (std::find(columns.begin(), columns.end(), key) == columns.end())
        columns.push_back(key);
    }
  }
  std::vector<size_t> width;
  for (auto& c : columns)
    width.push_back(c.size());
  std::vector<std::vector<std::string>> cells;
  for (auto& row : rows) {
    cells.emplace_back();
    for (size_t i = 0; i < columns.size(); ++i) {
      auto v = row.contains(columns[i]) ? scalar(row[columns[i]]) : "";
      width[i] = std::max(width[i], v.size());
      cells.back().push_back(v);
    }
  }
  auto line = [&](const std::vector<std::string>& values) {
    out += indent;
    for (size_t i = 0; i < values.size(); ++i) {
      out += values[i];
      if (i + 1 < values.size())
        out += std::string(width[i] - values[i].size() + 2, ' ');
    }
    out += '\n';
  };
  line(columns);
  for (auto& row : cells)
    line(row);
  return true;
}

void render_into(std::string& out, const json& x, const std::string& indent) {
  if (flat(x)) {
    out += indent + scalar(x) + "\n";
    return;
  }
  if (table(out, x, indent))
    return;
  if (x.empty()) {
    out += indent + "(none)\n";
    return;
  }
  if (x.is_array()) {
    for (auto& item : x) {
      render_into(out, item, indent);
      if (item.is_object())
        out += "\n";
    }
    return;
  }
  for (auto& [key, value] : x.items()) {
    if (flat(value)) {
      out += indent + key + ": " + scalar(value) + "\n";
    } else {
      out += indent + key + ":\n";
      render_into(out, value, indent + "  ");
    }
  }
}

} // namespace

std::string render(const std::string& json_text) {
  auto doc = json::parse(json_text, nullptr, false);
  if (doc.is_discarded())
    return json_text + "\n";
  if (doc.is_object() && doc.size() == 1 && doc.contains("help"))
    return doc["help"].get<std::string>() + "\n";
  std::string out;
  render_into(out, doc, "");
  return out;
}

} // namespace parley::shell
