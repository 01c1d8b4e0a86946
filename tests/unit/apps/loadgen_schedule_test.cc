// The load generator's scheduling parts that need no server: Poisson
// arrival times, the rate search, the verdict on a probe, and the flags.

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "apps/loadgen/options.h"
#include "apps/loadgen/scheduler.h"
#include "apps/loadgen/search.h"

namespace ebb::loadgen {
namespace {

TEST(PoissonArrivals, GapsAverageOneOverTheRate) {
  Rng rng(17);
  const uint64_t start = 1'000'000'000;
  PoissonArrivals arrivals(50'000.0, start, rng);  // a mean gap of 20 us
  uint64_t previous = start;
  const int n = 200'000;
  std::vector<double> gaps;
  for (int i = 0; i < n; ++i) {
    const uint64_t t = arrivals.next_ns();
    ASSERT_GE(t, previous);  // never back in time
    gaps.push_back(static_cast<double>(t - previous));
    previous = t;
    arrivals.advance(rng);
  }
  double sum = 0, sq = 0;
  for (double g : gaps)
    sum += g;
  const double mean = sum / n;
  for (double g : gaps)
    sq += (g - mean) * (g - mean);
  EXPECT_NEAR(mean, 20'000.0, 20'000.0 * 0.01);
  EXPECT_NEAR(std::sqrt(sq / n) / mean, 1.0, 0.02);  // exponential gaps
  // n arrivals take n / rate seconds: no drift from rounding gaps to nanoseconds.
  EXPECT_NEAR(static_cast<double>(previous - start), n * 20'000.0, n * 20'000.0 * 0.01);
}

TEST(PoissonArrivals, CountsPerIntervalArePoisson) {
  // Arrivals in 1 ms windows at 10 000/s: mean 10 and variance 10.
  Rng rng(23);
  PoissonArrivals arrivals(10'000.0, 0, rng);
  std::vector<int> counts(20'000, 0);
  for (;;) {
    const uint64_t window = arrivals.next_ns() / 1'000'000;
    if (window >= counts.size()) break;
    ++counts[window];
    arrivals.advance(rng);
  }
  double sum = 0, sq = 0;
  for (int c : counts)
    sum += c;
  const double mean = sum / static_cast<double>(counts.size());
  for (int c : counts)
    sq += (c - mean) * (c - mean);
  EXPECT_NEAR(mean, 10.0, 0.15);
  EXPECT_NEAR(sq / static_cast<double>(counts.size()), 10.0, 0.5);
}

TEST(RateSearch, ConvergesOnTheCapacityFromBelow) {
  for (double capacity : {0.0, 1234.0, 50'000.0, 99'000.0, 100'000.0}) {
    RateSearch search(100'000.0);
    while (!search.done())
      search.report(search.next_rate() <= capacity);
    EXPECT_LE(search.best(), capacity);
    EXPECT_GE(search.best(), capacity - 100'000.0 * 0.02 - 1e-9) << capacity;
    EXPECT_LE(search.probes(), 10);
  }
}

TEST(RateSearch, StopsAtOnceWithoutAPeakAndAfterMaxProbes) {
  RateSearch none(0.0);
  EXPECT_TRUE(none.done());
  EXPECT_EQ(none.best(), 0.0);
  RateSearch fine(1000.0, 1e-9, 3);
  int probes = 0;
  while (!fine.done()) {
    fine.report(true);
    ++probes;
  }
  EXPECT_EQ(probes, 3);
  EXPECT_DOUBLE_EQ(fine.best(), 875.0);  // 500, 750, 875
}

RunResult healthy_run() {
  RunResult r;
  r.target_rate = 1000;
  r.duration_s = 1;
  r.counters.completed = 1000;
  r.counters.sent = 1000;
  for (int i = 0; i < 1000; ++i)
    r.histogram.record(i < 990 ? 100'000 : 900'000);  // 100 us, 900 us
  return r;
}

TEST(SearchJudge, PassesOnlyUnderTheLimitWithEveryRequestAnswered) {
  RunResult r = healthy_run();
  EXPECT_TRUE(judge(r, 99.0, 150.0).passed);   // p99 is about 100 us
  EXPECT_FALSE(judge(r, 99.9, 150.0).passed);  // p99.9 is about 900 us
  r.counters.errors = 1;
  EXPECT_FALSE(judge(r, 99.0, 150.0).passed);
  r = healthy_run();
  r.counters.unfinished = 1;
  EXPECT_FALSE(judge(r, 99.0, 150.0).passed);
  r = healthy_run();
  r.counters.dropped = 1;
  EXPECT_FALSE(judge(r, 99.0, 150.0).passed);
  r = healthy_run();
  r.failed_connections = 1;
  EXPECT_FALSE(judge(r, 99.0, 150.0).passed);
  EXPECT_FALSE(judge(RunResult(), 99.0, 150.0).passed);  // no replies at all
}

// ---- flags ------------------------------------------------------------------------------

ParseOutcome parse(std::vector<const char*> args, Options* o) {
  args.insert(args.begin(), "ebb-loadgen");
  return parse_options(static_cast<int>(args.size()), args.data(), o);
}

TEST(LoadgenOptions, DefaultsAndEveryFlag) {
  Options o;
  ASSERT_EQ(parse({}, &o), ParseOutcome::kRun);
  EXPECT_EQ(o.host, "127.0.0.1");
  EXPECT_EQ(o.port, 11211);
  EXPECT_TRUE(o.closed_loop());
  EXPECT_DOUBLE_EQ(o.workload.set_fraction, 0.1);

  Options p;
  ASSERT_EQ(parse({"--server",
                   "localhost:2000",
                   "--cores",
                   "3",
                   "--connections",
                   "5",
                   "--pipeline",
                   "6",
                   "--rate",
                   "1500.5",
                   "--duration",
                   "2.5",
                   "--warmup=0",
                   "--keys",
                   "777",
                   "--key-size",
                   "12",
                   "--value-size",
                   "0",
                   "--get-ratio",
                   "0.75",
                   "--zipf",
                   "0.99",
                   "--preload",
                   "--json",
                   "--progress",
                   "--seed",
                   "9"},
                  &p),
            ParseOutcome::kRun);
  EXPECT_EQ(p.host, "localhost");
  EXPECT_EQ(p.port, 2000);
  EXPECT_EQ(p.cores, 3u);
  EXPECT_EQ(p.connections, 5u);
  EXPECT_EQ(p.pipeline, 6u);
  EXPECT_DOUBLE_EQ(p.rate, 1500.5);
  EXPECT_DOUBLE_EQ(p.duration_s, 2.5);
  EXPECT_DOUBLE_EQ(p.warmup_s, 0.0);
  EXPECT_EQ(p.workload.keys, 777u);
  EXPECT_EQ(p.workload.key_size, 12u);
  EXPECT_EQ(p.workload.value_size, 0u);
  EXPECT_DOUBLE_EQ(p.workload.set_fraction, 0.25);
  EXPECT_DOUBLE_EQ(p.workload.zipf, 0.99);
  EXPECT_TRUE(p.preload && p.json && p.progress);
  EXPECT_EQ(p.workload.seed, 9u);
}

TEST(LoadgenOptions, RateMaxIsAClosedLoopAndEtcIsThirtyToOne) {
  Options o;
  ASSERT_EQ(parse({"--rate", "max", "--workload", "etc"}, &o), ParseOutcome::kRun);
  EXPECT_TRUE(o.closed_loop());
  EXPECT_EQ(o.workload.kind, WorkloadKind::kEtc);
  EXPECT_DOUBLE_EQ(o.workload.set_fraction, 1.0 / 31.0);
}

TEST(LoadgenOptions, SearchTakesPercentileAndLimitAndShortensRuns) {
  Options o;
  ASSERT_EQ(parse({"--search", "99.9:250"}, &o), ParseOutcome::kRun);
  EXPECT_TRUE(o.search);
  EXPECT_DOUBLE_EQ(o.search_percentile, 99.9);
  EXPECT_DOUBLE_EQ(o.search_limit_us, 250.0);
  EXPECT_DOUBLE_EQ(o.duration_s, 2.0);
  Options p;
  ASSERT_EQ(parse({"--duration", "5", "--search", "50:10"}, &p), ParseOutcome::kRun);
  EXPECT_DOUBLE_EQ(p.duration_s, 5.0);  // given: kept
}

TEST(LoadgenOptions, HelpIsHelp) {
  Options o;
  EXPECT_EQ(parse({"--cores", "2", "--help"}, &o), ParseOutcome::kHelp);
  EXPECT_EQ(parse({"-h"}, &o), ParseOutcome::kHelp);
}

TEST(LoadgenOptions, BadFlagsAreErrors) {
  const std::vector<std::vector<const char*>> bad = {
      {"--frobnicate"},
      {"--cores"},
      {"--cores", "0"},
      {"--cores", "2x"},
      {"--connections", "-1"},
      {"--pipeline", "0"},
      {"--rate", "fast"},
      {"--rate", "-5"},
      {"--rate", "nan"},
      {"--duration", "0"},
      {"--warmup", "x"},
      {"--server", "localhost"},
      {"--server", ":11211"},
      {"--server", "host:"},
      {"--server", "host:99999"},
      {"--workload", "random"},
      {"--workload"},
      {"--key-size", "0"},
      {"--key-size", "251"},
      {"--keys", "100000", "--key-size", "2"},  // 100000 keys need 3 base-62 digits
      {"--value-size", "2000000"},
      {"--get-ratio", "1.5"},
      {"--get-ratio", "0.5", "--set-fraction", "0.5"},
      {"--workload", "etc", "--key-size", "10"},
      {"--workload", "etc", "--value-size", "10"},
      {"--value-max", "100"},
      {"--search", "99"},
      {"--search", "100:50"},
      {"--search", "0:50"},
      {"--search", "99:0"},
      {"--search", "99:500", "--rate", "1000"},
      {"--json=yes"},
      {"--zipf", "-1"},
  };
  for (const auto& args : bad) {
    Options o;
    std::string joined;
    for (const char* a : args)
      joined += std::string(a) + " ";
    EXPECT_EQ(parse(args, &o), ParseOutcome::kError) << joined;
  }
}

}  // namespace
}  // namespace ebb::loadgen
