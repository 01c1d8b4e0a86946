#pragma once
// The load of one core: its connections, when each request is due, and
// the end of a run.
//
// Open loop: requests arrive as a Poisson process at the core's share of
// the rate, whatever the server does. An idle handler (the core polls while
// one is installed) reads the monotonic clock on every turn of the core's
// loop and issues every request whose time has come, to a connection drawn
// at random; requests due together on one connection go out in one write.
// When the next arrival is far off, the handler steps aside for a timer, so
// that a slow run does not keep a CPU spinning, and comes back shortly
// before the arrival.
//
// Closed loop (--rate max): every connection keeps `pipeline` requests out,
// sending a new one for each reply, as fast as the server answers.
//
// A run's requests count when they are intended inside [measure, end); the
// warm-up before is run the same way and discarded. After `end` no request
// is issued; replies are awaited until every connection is idle or until
// `drain`, and what is still missing then counts as unfinished.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "apps/loadgen/client.h"
#include "apps/loadgen/workload.h"
#include "ebbs/net/address.h"
#include "runtime/future.h"
#include "runtime/idle_handler.h"
#include "runtime/timer.h"

namespace ebb::loadgen {

// The intended send times of an open loop: exponential gaps at `rate`
// requests per second from `start_ns`.
class PoissonArrivals {
 public:
  PoissonArrivals() = default;
  PoissonArrivals(double rate_per_s, uint64_t start_ns, Rng& rng);
  uint64_t next_ns() const { return start_ns_ + static_cast<uint64_t>(offset_ns_); }
  void advance(Rng& rng);

 private:
  uint64_t start_ns_ = 0;
  double mean_gap_ns_ = 0.0;
  double offset_ns_ = 0.0;  // from start: a double keeps sub-ns gaps from rounding away
};

struct RunPlan {
  uint32_t run = 0;         // distinguishes late replies of an earlier run
  uint64_t start_ns = 0;    // arrivals (and the warm-up) begin
  uint64_t measure_ns = 0;  // requests intended from here on count
  uint64_t end_ns = 0;      // no request is intended from here on
  uint64_t drain_ns = 0;    // the latest moment to wait for replies
  double rate = 0.0;        // this core's requests per second; 0: closed loop
};

struct CoreSnapshot {
  Counters counters;
  LatencyHistogram histogram;
  LatencyHistogram send_lag;
  uint64_t replies = 0;  // every reply of the run, warm-up included
  uint32_t failed_connections = 0;
  std::string failure;  // the first failure's reason
};

class CoreDriver {
 public:
  CoreDriver(const Workload& workload, uint32_t pipeline, uint64_t seed);
  CoreDriver(const CoreDriver&) = delete;
  CoreDriver& operator=(const CoreDriver&) = delete;

  // The rest runs on the driver's core, one call at a time.

  // Opens `connections` connections to the server (blocks the event).
  Status connect(net::Endpoint server, uint32_t connections);
  // Sets keys first, first + stride, ... below `keys`, closed loop.
  Future<void> preload(uint32_t run, uint64_t first, uint64_t stride, uint64_t keys);
  // One run; completes after its drain.
  Future<void> run(const RunPlan& plan);
  CoreSnapshot snapshot() const;
  // Closes every connection; completes when all are closed.
  Future<void> close();

 private:
  enum class Mode : uint8_t { kIdle, kPreload, kOpen, kClosed, kDraining };

  void begin(Mode mode, uint32_t run);
  void on_replies(ClientConnection& conn, uint32_t replies);
  void on_failed(ClientConnection& conn);
  // Open loop.
  void install_ticker();
  bool tick();
  // Closed loop and preload.
  void start_closed();
  void refill_closed(ClientConnection& conn, uint32_t n, uint64_t now);
  void refill_preload(ClientConnection& conn);
  // The end.
  void end_arrivals();
  void maybe_finish();
  void finish();
  template <class F>
  void at(uint64_t when_ns, F fn);

  const Workload& workload_;
  const uint32_t pipeline_;
  Rng rng_;
  Recorder recorder_;
  std::vector<std::unique_ptr<ClientConnection>> connections_;
  std::vector<ClientConnection*> alive_;
  std::vector<ClientConnection*> dirty_;  // got requests this tick: flush them
  Mode mode_ = Mode::kIdle;
  RunPlan plan_;
  PoissonArrivals arrivals_;
  IdleHandlerId ticker_ = 0;  // 0: not installed
  Promise<void> done_;
  // Preload.
  uint64_t next_key_ = 0;
  uint64_t stride_ = 1;
  uint64_t keys_ = 0;
  // Failures and closing.
  uint32_t failed_ = 0;
  std::string failure_;
  uint32_t open_ = 0;
  Promise<void> closed_;
};

}  // namespace ebb::loadgen
