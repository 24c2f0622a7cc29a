#include "tools/bench/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace parley::bench {

size_t histogram::index(int64_t ns) noexcept {
  auto v = static_cast<uint64_t>(std::clamp<int64_t>(ns, 0, largest));
  if (v < (uint64_t{1} << (sub_bits + 1)))
    return static_cast<size_t>(v);
  // v's top bit is `top`: keep sub_bits + 1 bits of it, scaled by its magnitude.
  int top = 63 - __builtin_clzll(v);
  int shift = top - sub_bits;
  return static_cast<size_t>(shift) * (size_t{1} << sub_bits)
         + static_cast<size_t>(v >> shift);
}

int64_t histogram::upper_bound(size_t index) noexcept {
  constexpr size_t sub = size_t{1} << sub_bits;
  if (index < 2 * sub)
    return static_cast<int64_t>(index);
  auto shift = index / sub - 1;
  auto mantissa = index - shift * sub;  // in [sub, 2 * sub)
  return static_cast<int64_t>(((mantissa + 1) << shift) - 1);
}

void histogram::record(int64_t ns) noexcept {
  ns = std::clamp<int64_t>(ns, 0, largest);
  ++counts_[index(ns)];
  ++count_;
  sum_ += static_cast<double>(ns);
  max_ = std::max(max_, ns);
}

void histogram::merge(const histogram& other) noexcept {
  for (size_t i = 0; i < bucket_count; ++i)
    counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
}

int64_t histogram::percentile(double percent) const noexcept {
  if (count_ == 0)
    return 0;
  auto rank = static_cast<uint64_t>(
    std::ceil(std::clamp(percent, 0.0, 100.0) / 100.0 * static_cast<double>(count_)));
  rank = std::max<uint64_t>(rank, 1);
  uint64_t seen = 0;
  for (size_t i = 0; i < bucket_count; ++i) {
    seen += counts_[i];
    if (seen >= rank)
      return std::min(upper_bound(i), max_);
  }
  return max_;
}

std::string histogram::serialize() const {
  std::ostringstream out;
  out << count_ << ' ' << static_cast<int64_t>(sum_) << ' ' << max_;
  for (size_t i = 0; i < bucket_count; ++i)
    if (counts_[i] != 0)
      out << ' ' << i << ':' << counts_[i];
  return out.str();
}

bool histogram::parse(std::string_view text) {
  std::istringstream in{std::string(text)};
  histogram h;
  int64_t sum = 0;
  if (!(in >> h.count_ >> sum >> h.max_))
    return false;
  h.sum_ = static_cast<double>(sum);
  std::string pair;
  while (in >> pair) {
    auto colon = pair.find(':');
    if (colon == std::string::npos)
      return false;
    char* end = nullptr;
    auto i = std::strtoull(pair.c_str(), &end, 10);
    auto n = std::strtoull(pair.c_str() + colon + 1, &end, 10);
    if (i >= bucket_count)
      return false;
    h.counts_[i] = n;
  }
  *this = h;
  return true;
}

} // namespace parley::bench
