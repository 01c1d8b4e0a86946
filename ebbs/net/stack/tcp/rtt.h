#pragma once
// RttEstimator: the retransmission timeout of RFC 6298 from round-trip
// samples (SRTT, RTTVAR, RTO = SRTT + max(G, 4 RTTVAR)), clamped to the
// configured bounds, with exponential backoff after a timeout.

#include <cstdint>

namespace ebb::net::stack {

class RttEstimator {
 public:
  RttEstimator(uint64_t initial_rto_ns, uint64_t min_rto_ns, uint64_t max_rto_ns)
      : rto_(initial_rto_ns), min_(min_rto_ns), max_(max_rto_ns) {}

  void sample(uint64_t rtt_ns) {
    if (srtt_ == 0) {  // the first measurement (2.2)
      srtt_ = rtt_ns;
      rttvar_ = rtt_ns / 2;
    } else {  // (2.3), alpha = 1/8, beta = 1/4
      const uint64_t diff = srtt_ > rtt_ns ? srtt_ - rtt_ns : rtt_ns - srtt_;
      rttvar_ = (3 * rttvar_ + diff) / 4;
      srtt_ = (7 * srtt_ + rtt_ns) / 8;
    }
    constexpr uint64_t kGranularity = 1'000'000;  // G: 1 ms
    uint64_t rto = srtt_ + (4 * rttvar_ > kGranularity ? 4 * rttvar_ : kGranularity);
    rto_ = rto < min_ ? min_ : rto > max_ ? max_ : rto;
    backoff_ = 0;
  }
  // (5.5): doubles the timeout after it expired.
  void back_off() {
    if (backoff_ < 16) ++backoff_;
  }
  // A new acknowledgement ends the backoff (the RTO is recomputed from the
  // next sample; until then the backed-off value stays, per 5.7).
  uint64_t rto() const {
    const uint64_t r = rto_ << backoff_;
    return r > max_ || (r >> backoff_) != rto_ ? max_ : r;
  }
  uint64_t srtt() const { return srtt_; }
  uint32_t backoffs() const { return backoff_; }
  void reset_backoff() { backoff_ = 0; }

 private:
  uint64_t srtt_ = 0;
  uint64_t rttvar_ = 0;
  uint64_t rto_;
  uint64_t min_, max_;
  uint32_t backoff_ = 0;
};

}  // namespace ebb::net::stack
