#include "apps/loadgen/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace ebb::loadgen {
namespace {

using H = LatencyHistogram;

void expect_bucket_holds(uint64_t v) {
  const uint32_t b = H::bucket_of(v);
  ASSERT_LT(b, H::kBuckets) << v;
  ASSERT_LE(H::bucket_low(b), v) << v;
  ASSERT_GE(H::bucket_high(b), v) << v;
  // The bucket is narrow: within 1/2^kSubBits of its values.
  const uint64_t width = H::bucket_high(b) - H::bucket_low(b);
  ASSERT_LE(static_cast<double>(width), static_cast<double>(v) / H::kSubBuckets) << v;
}

TEST(LatencyHistogram, EveryValueLandsInANarrowBucketThatHoldsIt) {
  for (uint64_t v = 0; v < 1'000'000; ++v) expect_bucket_holds(v);
  for (uint32_t bit = 0; bit < 64; ++bit) {
    const uint64_t p = uint64_t{1} << bit;
    expect_bucket_holds(p);
    expect_bucket_holds(p - 1);
    expect_bucket_holds(p + 1);
  }
  expect_bucket_holds(UINT64_MAX);
  std::mt19937_64 rng(5);
  for (int i = 0; i < 100'000; ++i) expect_bucket_holds(rng() >> (rng() % 64));
}

TEST(LatencyHistogram, BucketsTileTheValuesInOrder) {
  EXPECT_EQ(H::bucket_low(0), 0u);
  for (uint32_t b = 1; b < H::kBuckets; ++b) {
    ASSERT_EQ(H::bucket_low(b), H::bucket_high(b - 1) + 1) << b;  // no gap, no overlap
    ASSERT_EQ(H::bucket_of(H::bucket_low(b)), b);
    ASSERT_EQ(H::bucket_of(H::bucket_high(b)), b);
  }
  EXPECT_EQ(H::bucket_high(H::kBuckets - 1), UINT64_MAX);
}

TEST(LatencyHistogram, PercentilesOfAUniformRunAreWithinTheBucketError) {
  H h;
  for (uint64_t v = 1; v <= 100'000; ++v) h.record(v * 1000);  // 1 µs .. 100 ms
  EXPECT_EQ(h.count(), 100'000u);
  EXPECT_EQ(h.min(), 1000u);
  EXPECT_EQ(h.max(), 100'000'000u);
  EXPECT_NEAR(h.mean(), 50'000'500.0, 1.0);
  for (double p : {1.0, 10.0, 50.0, 90.0, 99.0, 99.9, 99.99}) {
    const double exact = std::ceil(p / 100.0 * 100'000) * 1000;
    const auto got = static_cast<double>(h.percentile(p));
    EXPECT_GE(got, exact) << p;  // never under the true value
    EXPECT_LE(got, exact * (1.0 + 1.0 / H::kSubBuckets)) << p;
  }
  EXPECT_EQ(h.percentile(100.0), 100'000'000u);
  EXPECT_EQ(h.percentile(0.0), 1000u);
}

TEST(LatencyHistogram, MergingEqualsRecordingEverythingInOne) {
  std::mt19937_64 rng(11);
  std::exponential_distribution<double> latency(1.0 / 50'000.0);
  H parts[4], all;
  for (int i = 0; i < 200'000; ++i) {
    const auto v = static_cast<uint64_t>(latency(rng));
    parts[i % 4].record(v);
    all.record(v);
  }
  H merged;
  for (const H& p : parts) merged.merge(p);
  EXPECT_EQ(merged.count(), all.count());
  EXPECT_EQ(merged.min(), all.min());
  EXPECT_EQ(merged.max(), all.max());
  EXPECT_DOUBLE_EQ(merged.mean(), all.mean());
  for (double p = 0; p <= 100.0; p += 0.5) EXPECT_EQ(merged.percentile(p), all.percentile(p)) << p;
}

TEST(LatencyHistogram, EmptyAndSingleValues) {
  H h;
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.percentile(50), 0u);
  EXPECT_EQ(h.min(), 0u);
  EXPECT_EQ(h.mean(), 0.0);
  h.record(123'456'789);
  for (double p : {0.0, 1.0, 50.0, 99.999, 100.0})
    EXPECT_EQ(h.percentile(p), 123'456'789u) << p;  // clamped to what was seen
  h.record(UINT64_MAX);
  EXPECT_EQ(h.percentile(100), UINT64_MAX);
  h.record(7, 0);  // a count of 0 records nothing
  EXPECT_EQ(h.count(), 2u);
  h.clear();
  EXPECT_EQ(h.count(), 0u);
  EXPECT_EQ(h.max(), 0u);
}

}  // namespace
}  // namespace ebb::loadgen
