// A latency histogram in log-linear buckets: 32 linear buckets per power of two,
// so a reported value is at most 1/32 (≈ 3%) above the true one, in 10 KiB of
// counts whatever the number of samples. No sample is stored.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace parley::bench {

/// Nanosecond durations from 0 to ≈ 4.8 hours (longer ones count as the longest).
class histogram {
public:
  void record(int64_t ns) noexcept;

  void merge(const histogram& other) noexcept;

  uint64_t count() const noexcept {
    return count_;
  }

  /// The smallest bucket bound at or above `percent` of the samples (0 when
  /// empty); never more than the largest sample.
  int64_t percentile(double percent) const noexcept;

  int64_t max() const noexcept {
    return count_ == 0 ? 0 : max_;
  }

  double mean() const noexcept {
    return count_ == 0 ? 0.0 : sum_ / static_cast<double>(count_);
  }

  /// "count sum max i:n i:n ..." over the non-empty buckets.
  std::string serialize() const;

  /// Reads what serialize wrote; false if `text` is not such a line.
  bool parse(std::string_view text);

private:
  static constexpr int sub_bits = 5;                 // 32 sub-buckets
  static constexpr int64_t largest = (int64_t{1} << 44) - 1;
  static constexpr size_t bucket_count = 32 * 40;    // enough for `largest`

  static size_t index(int64_t ns) noexcept;
  static int64_t upper_bound(size_t index) noexcept;

  std::array<uint64_t, bucket_count> counts_{};
  uint64_t count_ = 0;
  double sum_ = 0;
  int64_t max_ = 0;
};

} // namespace parley::bench
