#include "apps/loadgen/workload.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <vector>

namespace ebb::loadgen {
namespace {

constexpr int kSamples = 400'000;

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
}

double mean(const std::vector<double>& v) {
  double sum = 0;
  for (double x : v)
    sum += x;
  return sum / static_cast<double>(v.size());
}

TEST(LoadgenRng, SameSeedSameSequenceOtherSeedAnother) {
  Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t x = a.next();
    EXPECT_EQ(x, b.next());
    differs |= x != c.next();
  }
  EXPECT_TRUE(differs);
}

TEST(LoadgenRng, UniformIsUniformAndBelowStaysBelow) {
  Rng rng(7);
  std::vector<double> u;
  for (int i = 0; i < kSamples; ++i) {
    const double x = rng.uniform();
    ASSERT_GE(x, 0.0);
    ASSERT_LT(x, 1.0);
    const double y = rng.open_uniform();
    ASSERT_GT(y, 0.0);
    ASSERT_LT(y, 1.0);
    u.push_back(x);
    ASSERT_LT(rng.below(10), 10u);
  }
  EXPECT_NEAR(mean(u), 0.5, 0.005);
  EXPECT_NEAR(quantile(u, 0.9), 0.9, 0.005);
}

TEST(LoadgenDistributions, ExponentialGapsHaveTheMeanAndSpreadOfAPoissonProcess) {
  Rng rng(1);
  std::vector<double> gaps;
  for (int i = 0; i < kSamples; ++i)
    gaps.push_back(exponential_gap(rng, 20'000.0));
  const double m = mean(gaps);
  EXPECT_NEAR(m, 20'000.0, 20'000.0 * 0.01);
  double var = 0;
  for (double g : gaps)
    var += (g - m) * (g - m);
  const double cv = std::sqrt(var / static_cast<double>(gaps.size())) / m;
  EXPECT_NEAR(cv, 1.0, 0.02);  // exponential: standard deviation = mean
  EXPECT_NEAR(quantile(gaps, 0.5), 20'000.0 * std::log(2.0), 20'000.0 * 0.01);
}

TEST(LoadgenDistributions, QuantileFunctionsInvertTheirCdfs) {
  // GEV CDF: exp(-(1 + xi (x - mu)/sigma)^(-1/xi)); generalized Pareto:
  // 1 - (1 + xi (x - mu)/sigma)^(-1/xi).
  for (double u : {0.01, 0.2, 0.5, 0.9, 0.999}) {
    const double x = gev_quantile(u, 30.7984, 8.20449, 0.078688);
    const double t = 1 + 0.078688 * (x - 30.7984) / 8.20449;
    EXPECT_NEAR(std::exp(-std::pow(t, -1 / 0.078688)), u, 1e-9);
    const double y = gpareto_quantile(u, 15, 214.476, 0.348238);
    EXPECT_NEAR(1 - std::pow(1 + 0.348238 * (y - 15) / 214.476, -1 / 0.348238), u, 1e-9);
  }
}

TEST(LoadgenEtc, KeySizesFollowTheGevFit) {
  Rng rng(3);
  std::vector<double> sizes;
  for (int i = 0; i < kSamples; ++i)
    sizes.push_back(etc::key_size(rng.open_uniform()));
  // Mean of a GEV: mu + sigma (Gamma(1 - xi) - 1) / xi; median: mu + sigma ((ln 2)^-xi - 1) / xi.
  const double xi = etc::kKeyShape;
  const double want_mean = etc::kKeyLocation + etc::kKeyScale * (std::tgamma(1 - xi) - 1) / xi;
  const double want_median =
      etc::kKeyLocation + etc::kKeyScale * (std::pow(std::log(2.0), -xi) - 1) / xi;
  EXPECT_NEAR(mean(sizes), want_mean, 0.5);  // rounding to whole bytes moves it a little
  EXPECT_NEAR(quantile(sizes, 0.5), want_median, 1.0);
  EXPECT_NEAR(quantile(sizes, 0.99), gev_quantile(0.99, etc::kKeyLocation, etc::kKeyScale, xi),
              1.0);
  EXPECT_GE(*std::min_element(sizes.begin(), sizes.end()), 1.0);
  EXPECT_LE(*std::max_element(sizes.begin(), sizes.end()), 250.0);
}

TEST(LoadgenEtc, ValueSizesFollowTheTableThenTheParetoTail) {
  Rng rng(5);
  std::vector<int> small(etc::kValueTableSize, 0);
  std::vector<double> tail;
  for (int i = 0; i < kSamples; ++i) {
    const uint32_t v = etc::value_size(rng, 1'000'000);
    if (v < static_cast<uint32_t>(etc::kValueTableSize))
      ++small[v];
    else
      tail.push_back(v);
  }
  double table_mass = 0;
  for (int i = 0; i < etc::kValueTableSize; ++i) {
    table_mass += etc::kValueTable[i];
    const double p = static_cast<double>(small[i]) / kSamples;
    // Within 5 standard errors (plus a floor for the tiny cells).
    const double se = std::sqrt(etc::kValueTable[i] * (1 - etc::kValueTable[i]) / kSamples);
    EXPECT_NEAR(p, etc::kValueTable[i], 5 * se + 1e-4) << "size " << i;
  }
  EXPECT_NEAR(table_mass, 0.44155, 1e-9);
  EXPECT_NEAR(static_cast<double>(tail.size()) / kSamples, 1 - table_mass, 0.003);
  // The tail, on its own, is the Pareto fit from 15 bytes (floored to whole bytes).
  for (double q : {0.25, 0.5, 0.9, 0.99}) {
    const double want =
        gpareto_quantile(q, etc::kValueLocation, etc::kValueScale, etc::kValueShape);
    EXPECT_NEAR(quantile(tail, q), want, want * 0.03 + 1) << "quantile " << q;
  }
  EXPECT_GE(*std::min_element(tail.begin(), tail.end()), 15.0);
}

TEST(LoadgenEtc, ValueSizesAreCapped) {
  Rng rng(9);
  uint32_t largest = 0;
  for (int i = 0; i < kSamples; ++i)
    largest = std::max(largest, etc::value_size(rng, 4096));
  EXPECT_EQ(largest, 4096u);  // P(> 4096) is about 0.3%: the cap is reached, never passed
}

TEST(LoadgenZipf, RanksFollowOneOverRankToTheS) {
  for (double s : {0.5, 0.99, 1.0, 1.5}) {
    const uint64_t n = 100;
    ZipfSampler zipf(n, s);
    Rng rng(11);
    std::vector<int> counts(n, 0);
    for (int i = 0; i < kSamples; ++i) {
      const uint64_t r = zipf.sample(rng);
      ASSERT_LT(r, n);
      ++counts[r];
    }
    double norm = 0;
    for (uint64_t k = 1; k <= n; ++k)
      norm += std::pow(static_cast<double>(k), -s);
    for (uint64_t r : {0u, 1u, 9u, 99u}) {
      const double want = std::pow(static_cast<double>(r + 1), -s) / norm;
      const double se = std::sqrt(want * (1 - want) / kSamples);
      EXPECT_NEAR(static_cast<double>(counts[r]) / kSamples, want, 5 * se)
          << "s " << s << " rank " << r;
    }
  }
}

TEST(LoadgenWorkload, KeyNamesAreDistinctAndHaveTheirSize) {
  WorkloadSpec spec;
  spec.keys = 5000;
  spec.key_size = 10;
  Workload fixed(spec);
  std::set<std::string> names;
  char buf[300];
  for (uint64_t k = 0; k < spec.keys; ++k) {
    const std::size_t n = fixed.format_key(k, buf);
    ASSERT_EQ(n, 10u);
    for (std::size_t i = 0; i < n; ++i)
      ASSERT_TRUE(buf[i] > ' ' && buf[i] < 127) << k;
    names.insert(std::string(buf, n));
  }
  EXPECT_EQ(names.size(), spec.keys);

  spec.kind = WorkloadKind::kEtc;
  Workload etc(spec);
  names.clear();
  for (uint64_t k = 0; k < spec.keys; ++k) {
    const std::size_t n = etc.format_key(k, buf);
    ASSERT_EQ(n, etc.key_size(k));  // the same key, the same size, every time
    ASSERT_EQ(etc.key_size(k), etc.key_size(k));
    ASSERT_GE(n, Workload::min_key_size(spec.keys));
    names.insert(std::string(buf, n));
  }
  EXPECT_EQ(names.size(), spec.keys);
}

TEST(LoadgenWorkload, MinKeySizeCountsBase62Digits) {
  EXPECT_EQ(Workload::min_key_size(1), 1u);
  EXPECT_EQ(Workload::min_key_size(62), 1u);
  EXPECT_EQ(Workload::min_key_size(63), 2u);
  EXPECT_EQ(Workload::min_key_size(62 * 62), 2u);
  EXPECT_EQ(Workload::min_key_size(62 * 62 + 1), 3u);
}

TEST(LoadgenWorkload, SetFractionAndKeyRangeHold) {
  WorkloadSpec spec;
  spec.keys = 1000;
  spec.set_fraction = 0.25;
  spec.value_size = 77;
  Workload w(spec);
  Rng rng(13);
  int sets = 0;
  for (int i = 0; i < kSamples; ++i) {
    const Request r = w.next(rng);
    ASSERT_LT(r.key, spec.keys);
    if (r.op == Op::kSet) {
      ++sets;
      ASSERT_EQ(r.value_size, 77u);
    }
  }
  EXPECT_NEAR(static_cast<double>(sets) / kSamples, 0.25, 0.005);
}

TEST(LoadgenWorkload, TheSameSeedGivesTheSameRequests) {
  WorkloadSpec spec;
  spec.kind = WorkloadKind::kEtc;
  spec.zipf = 0.99;
  Workload w(spec);
  Rng a(99), b(99);
  for (int i = 0; i < 10000; ++i) {
    const Request x = w.next(a), y = w.next(b);
    ASSERT_EQ(x.key, y.key);
    ASSERT_EQ(x.op, y.op);
    ASSERT_EQ(x.value_size, y.value_size);
  }
}

}  // namespace
}  // namespace ebb::loadgen
