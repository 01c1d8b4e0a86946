#include "apps/loadgen/histogram.h"

#include <cmath>

namespace ebb::loadgen {

uint32_t LatencyHistogram::bucket_of(uint64_t value) {
  if (value < kSubBuckets) return static_cast<uint32_t>(value);
  const uint32_t exponent = 63 - static_cast<uint32_t>(__builtin_clzll(value));  // >= kSubBits
  const uint32_t shift = exponent - kSubBits;
  const auto mantissa = static_cast<uint32_t>(value >> shift);  // in [kSubBuckets, 2 * kSubBuckets)
  return (shift + 1) * kSubBuckets + (mantissa - kSubBuckets);
}

uint64_t LatencyHistogram::bucket_low(uint32_t bucket) {
  const uint32_t group = bucket / kSubBuckets;
  const uint32_t sub = bucket % kSubBuckets;
  if (group == 0) return sub;
  return static_cast<uint64_t>(kSubBuckets + sub) << (group - 1);
}

uint64_t LatencyHistogram::bucket_high(uint32_t bucket) {
  const uint32_t group = bucket / kSubBuckets;
  if (group == 0) return bucket_low(bucket);
  return bucket_low(bucket) + ((uint64_t{1} << (group - 1)) - 1);
}

void LatencyHistogram::record(uint64_t value, uint64_t count) {
  if (count == 0) return;
  counts_[bucket_of(value)] += count;
  count_ += count;
  sum_ += value * count;
  if (value < min_) min_ = value;
  if (value > max_) max_ = value;
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (uint32_t b = 0; b < kBuckets; ++b) counts_[b] += other.counts_[b];
  count_ += other.count_;
  sum_ += other.sum_;
  if (other.min_ < min_) min_ = other.min_;
  if (other.max_ > max_) max_ = other.max_;
}

void LatencyHistogram::clear() { *this = LatencyHistogram(); }

uint64_t LatencyHistogram::percentile(double p) const {
  if (count_ == 0) return 0;
  if (!(p > 0.0)) return min();  // 0, negative or NaN
  if (p >= 100.0) return max_;
  // The rank of the value asked for: at least p percent at or below it.
  auto rank = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(count_)));
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (uint32_t b = 0; b < kBuckets; ++b) {
    seen += counts_[b];
    if (seen >= rank) {
      const uint64_t high = bucket_high(b);
      return high < max_ ? (high > min_ ? high : min_) : max_;
    }
  }
  return max_;
}

}  // namespace ebb::loadgen
