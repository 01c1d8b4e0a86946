#include "apps/loadgen/search.h"

namespace ebb::loadgen {

Verdict judge(const RunResult& run, double percentile, double limit_us) {
  const Counters& c = run.counters;
  if (run.failed_connections != 0) return {false, "a connection failed"};
  if (c.completed == 0) return {false, "no replies"};
  if (c.errors != 0) return {false, "error replies"};
  // Requests that never got an answer have no latency to put in the
  // histogram; any of them means the server did not keep up.
  if (c.dropped != 0 || c.lost != 0 || c.unfinished != 0) return {false, "requests unanswered"};
  if (run.percentile_us(percentile) > limit_us) return {false, "over the limit"};
  return {true, ""};
}

RateSearch::RateSearch(double peak, double resolution, int max_probes)
    : peak_(peak), resolution_(resolution), max_probes_(max_probes), high_(peak) {}

bool RateSearch::done() const {
  return peak_ <= 0.0 || probes_ >= max_probes_ || high_ - low_ <= resolution_ * peak_;
}

void RateSearch::report(bool passed) {
  const double rate = next_rate();
  ++probes_;
  if (passed)
    low_ = rate;
  else
    high_ = rate;
}

}  // namespace ebb::loadgen
