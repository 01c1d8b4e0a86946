#pragma once
// --search P:LIMIT_US: the highest open-loop rate at which the P-th
// percentile of latency stays at or under a limit.
//
// The search itself knows nothing of servers: it proposes a rate, is told
// whether the run at that rate passed, and halves the interval between the
// highest rate that passed (at first 0) and the lowest that failed (at first
// the peak of a closed-loop run: no open loop sustains more). Latency grows
// with load, so passing is monotonic in the rate, which is what bisection
// needs; noise near the knee only moves the answer within the interval.

#include "apps/loadgen/report.h"

namespace ebb::loadgen {

struct Verdict {
  bool passed;
  const char* why;  // for a failure
};

// Did this run keep the percentile under the limit, with every request answered?
Verdict judge(const RunResult& run, double percentile, double limit_us);

class RateSearch {
 public:
  // Stops once the interval is narrower than `resolution` times the peak, or
  // after `max_probes` probes.
  explicit RateSearch(double peak, double resolution = 0.02, int max_probes = 10);

  bool done() const;
  double next_rate() const { return (low_ + high_) / 2.0; }
  // The verdict of a run at next_rate().
  void report(bool passed);
  // The highest rate that passed; 0 when none did.
  double best() const { return low_; }
  int probes() const { return probes_; }

 private:
  double peak_;
  double resolution_;
  int max_probes_;
  int probes_ = 0;
  double low_ = 0.0;
  double high_;
};

}  // namespace ebb::loadgen
