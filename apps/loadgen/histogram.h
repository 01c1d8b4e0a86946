#pragma once
// LatencyHistogram: log-bucketed counts of values (nanoseconds), with a
// bounded relative error, that merge exactly: each core of the load
// generator records into its own, and the report adds them up.
//
// Buckets: values below 2^kSubBits are counted exactly; above, each power of
// two is split into 2^kSubBits equal sub-buckets, so a value is known to
// within 1/2^kSubBits (0.8% with kSubBits = 7) of itself. Memory is fixed
// (64 - kSubBits powers of two), so recording never allocates.
//
//   LatencyHistogram h;
//   h.record(latency_ns);
//   total.merge(h);
//   uint64_t p99 = total.percentile(99.0);

#include <cstddef>
#include <cstdint>

namespace ebb::loadgen {

class LatencyHistogram {
 public:
  static constexpr uint32_t kSubBits = 7;
  static constexpr uint32_t kSubBuckets = 1u << kSubBits;
  static constexpr uint32_t kBuckets = (64 - kSubBits + 1) * kSubBuckets;

  void record(uint64_t value, uint64_t count = 1);
  void merge(const LatencyHistogram& other);
  void clear();

  uint64_t count() const { return count_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  uint64_t max() const { return max_; }
  double mean() const { return count_ == 0 ? 0.0 : static_cast<double>(sum_) / count_; }
  // The smallest recorded value (to within the bucket's width: the bucket's
  // upper end, never above max()) such that at least p percent of the
  // values are at or below it. p in [0, 100]; 0 when nothing was recorded.
  uint64_t percentile(double p) const;

  // Bucket arithmetic, public for tests.
  static uint32_t bucket_of(uint64_t value);
  static uint64_t bucket_low(uint32_t bucket);   // smallest value in it
  static uint64_t bucket_high(uint32_t bucket);  // largest value in it

 private:
  uint64_t counts_[kBuckets] = {};
  uint64_t count_ = 0;
  uint64_t sum_ = 0;  // wraps after 584 years of nanoseconds: fine
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

}  // namespace ebb::loadgen
