#pragma once
// The results of a run, merged over cores, and the two ways to print them:
// a table for people and JSON for scripts (deploy/ebbctl reads it).

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "apps/loadgen/client.h"
#include "apps/loadgen/histogram.h"
#include "apps/loadgen/options.h"
#include "apps/loadgen/scheduler.h"

namespace ebb::loadgen {

struct RunResult {
  double target_rate = 0.0;  // requests per second asked for; 0: closed loop
  double duration_s = 0.0;   // the measured window
  Counters counters;
  LatencyHistogram histogram;
  LatencyHistogram send_lag;  // intended to actual send time
  uint32_t failed_connections = 0;
  std::string failure;  // the first failure's reason

  // Replies to measured requests per second of the window.
  double achieved_rate() const {
    return duration_s > 0.0 ? static_cast<double>(counters.completed) / duration_s : 0.0;
  }
  double percentile_us(double p) const {
    return static_cast<double>(histogram.percentile(p)) / 1e3;
  }
};

// Adds up the cores' snapshots.
RunResult merge(const std::vector<CoreSnapshot>& cores, double target_rate, double duration_s);

// One probe of --search, for the report.
struct Probe {
  double rate = 0.0;
  double achieved = 0.0;
  double value_us = 0.0;  // the searched percentile
  bool passed = false;
  const char* why = "";
};

struct SearchReport {
  double percentile = 0.0;
  double limit_us = 0.0;
  double peak_rate = 0.0;  // the closed-loop run's
  double best_rate = 0.0;  // 0: no probe passed
  std::vector<Probe> probes;
};

void print_table(FILE* out, const Options& options, const RunResult& result);
void print_probe(FILE* out, const SearchReport& search, const Probe& probe);
void print_search_table(FILE* out, const SearchReport& search);
// search may be null. With a search, `result` is the best probe's run (the
// peak run's when none passed).
void print_json(FILE* out, const Options& options, const RunResult& result,
                const SearchReport* search);

}  // namespace ebb::loadgen
