#include "apps/loadgen/scheduler.h"

#include <algorithm>
#include <chrono>

#include "ebbs/net/posix/tcp.h"
#include "runtime/platform.h"

namespace ebb::loadgen {

namespace {

// An arrival further off than this lets the core sleep on a timer, which
// wakes it kWakeEarlyNs before the arrival (timer slack and the wake-up
// itself take tens of microseconds) to spin for the rest.
constexpr uint64_t kSleepBeyondNs = 500'000;
constexpr uint64_t kWakeEarlyNs = 200'000;
// Requests issued per turn of the loop at most, so that replies keep being
// read while a backlog (a core that fell behind) is issued.
constexpr uint32_t kMaxPerTick = 1024;
// A preload that gets no replies for this long gives up (what is missing
// counts as unfinished) rather than hang.
constexpr uint64_t kPreloadTimeoutNs = 60'000'000'000;

}  // namespace

PoissonArrivals::PoissonArrivals(double rate_per_s, uint64_t start_ns, Rng& rng)
    : start_ns_(start_ns), mean_gap_ns_(1e9 / rate_per_s) {
  advance(rng);
}

void PoissonArrivals::advance(Rng& rng) {
  offset_ns_ += exponential_gap(rng, mean_gap_ns_);
}

CoreDriver::CoreDriver(const Workload& workload, uint32_t pipeline, uint64_t seed)
    : workload_(workload), pipeline_(pipeline), rng_(seed) {}

Status CoreDriver::connect(net::Endpoint server, uint32_t connections) {
  std::vector<Future<net::Connection>> pending;
  pending.reserve(connections);
  for (uint32_t i = 0; i < connections; ++i)
    pending.push_back(net::posix::connect(server));
  Status status;
  for (Future<net::Connection>& f : pending) {
    Result<net::Connection> c = f.block();
    if (!c) {
      if (status) status = c.error();
      continue;
    }
    connections_.push_back(std::make_unique<ClientConnection>(
        std::move(*c), workload_, recorder_, pipeline_,
        [this](ClientConnection& conn, uint32_t n) { on_replies(conn, n); },
        [this](ClientConnection& conn) { on_failed(conn); }));
    alive_.push_back(connections_.back().get());
    ++open_;
  }
  return status;
}

template <class F>
void CoreDriver::at(uint64_t when_ns, F fn) {
  const uint64_t now = platform::now_ns();
  const uint32_t run = plan_.run;
  auto guarded = [this, run, fn = std::move(fn)]() mutable {
    if (plan_.run == run && mode_ != Mode::kIdle) fn();  // a stale timer of an earlier run: nothing
  };
  if (when_ns <= now) {
    guarded();
    return;
  }
  (void)add_timer(std::chrono::nanoseconds(when_ns - now), std::move(guarded));
}

void CoreDriver::begin(Mode mode, uint32_t run) {
  done_ = Promise<void>();
  mode_ = mode;
  plan_.run = run;
  dirty_.clear();
}

// ---- preload -----------------------------------------------------------------------

Future<void> CoreDriver::preload(uint32_t run, uint64_t first, uint64_t stride, uint64_t keys) {
  begin(Mode::kPreload, run);
  Future<void> done = done_.get_future();
  recorder_.begin(run, 0, UINT64_MAX);
  next_key_ = first;
  stride_ = stride;
  keys_ = keys;
  for (ClientConnection* c : alive_)
    refill_preload(*c);
  at(platform::now_ns() + kPreloadTimeoutNs, [this] { finish(); });
  maybe_finish();
  return done;
}

void CoreDriver::refill_preload(ClientConnection& conn) {
  const uint64_t now = platform::now_ns();
  while (next_key_ < keys_ && conn.outstanding() + conn.waiting() < pipeline_) {
    const Request r = workload_.set_of(next_key_, rng_);
    (void)conn.enqueue(Pending{now, r.key, r.value_size, plan_.run, Op::kSet});
    next_key_ += stride_;
  }
  conn.flush();
  if (next_key_ >= keys_ && mode_ == Mode::kPreload) mode_ = Mode::kDraining;
}

// ---- runs ------------------------------------------------------------------------------

Future<void> CoreDriver::run(const RunPlan& plan) {
  begin(plan.rate > 0.0 ? Mode::kOpen : Mode::kClosed, plan.run);
  plan_ = plan;
  Future<void> done = done_.get_future();
  recorder_.begin(plan.run, plan.measure_ns, plan.end_ns);
  if (mode_ == Mode::kOpen) {
    arrivals_ = PoissonArrivals(plan.rate, plan.start_ns, rng_);
    install_ticker();
  } else {
    at(plan.start_ns, [this] { start_closed(); });
  }
  at(plan.end_ns, [this] { end_arrivals(); });
  at(plan.drain_ns, [this] { finish(); });
  return done;
}

void CoreDriver::install_ticker() {
  if (ticker_ != 0) return;
  Result<IdleHandlerId> id = add_idle_handler([this] { return tick(); });
  if (id) ticker_ = *id;
}

bool CoreDriver::tick() {
  if (mode_ != Mode::kOpen) {
    remove_idle_handler(ticker_);
    ticker_ = 0;
    return false;
  }
  const uint64_t now = platform::now_ns();
  uint64_t next = arrivals_.next_ns();
  if (next > now) {
    if (next - now > kSleepBeyondNs) {
      remove_idle_handler(ticker_);
      ticker_ = 0;
      at(next - kWakeEarlyNs, [this] {
        if (mode_ == Mode::kOpen) install_ticker();
      });
    }
    return false;
  }
  for (uint32_t issued = 0; next <= now && next < plan_.end_ns && issued < kMaxPerTick; ++issued) {
    const Request r = workload_.next(rng_);
    const Pending p{next, r.key, r.value_size, plan_.run, r.op};
    if (alive_.empty()) {
      if (recorder_.counts(p.run, p.intended_ns)) ++recorder_.counters.lost;
    } else {
      ClientConnection* c = alive_[alive_.size() == 1 ? 0 : rng_.below(alive_.size())];
      if (c->enqueue(p)) {
        if (c->waiting() == 1) dirty_.push_back(c);  // first this tick (flush empties the queue)
      } else if (recorder_.counts(p.run, p.intended_ns)) {
        ++recorder_.counters.dropped;
      }
    }
    arrivals_.advance(rng_);
    next = arrivals_.next_ns();
  }
  for (ClientConnection* c : dirty_)
    c->flush();
  dirty_.clear();
  if (next >= plan_.end_ns) end_arrivals();
  return true;
}

void CoreDriver::start_closed() {
  if (mode_ != Mode::kClosed) return;
  const uint64_t now = platform::now_ns();
  for (ClientConnection* c : alive_)
    refill_closed(*c, pipeline_, now);
}

void CoreDriver::refill_closed(ClientConnection& conn, uint32_t n, uint64_t now) {
  for (uint32_t i = 0; i < n; ++i) {
    const Request r = workload_.next(rng_);
    (void)conn.enqueue(Pending{now, r.key, r.value_size, plan_.run, r.op});
  }
  conn.flush();
}

void CoreDriver::on_replies(ClientConnection& conn, uint32_t replies) {
  switch (mode_) {
    case Mode::kClosed: {
      const uint64_t now = platform::now_ns();
      if (now < plan_.end_ns) {
        refill_closed(conn, replies, now);
        return;
      }
      end_arrivals();
      return;
    }
    case Mode::kPreload:
      refill_preload(conn);
      maybe_finish();
      return;
    case Mode::kOpen:
      conn.flush();  // requests that waited for room in the pipeline
      return;
    case Mode::kDraining:
      conn.flush();
      maybe_finish();
      return;
    case Mode::kIdle:
      return;
  }
}

void CoreDriver::on_failed(ClientConnection& conn) {
  ++failed_;
  if (failure_.empty()) failure_ = conn.failure();
  alive_.erase(std::remove(alive_.begin(), alive_.end(), &conn), alive_.end());
  dirty_.erase(std::remove(dirty_.begin(), dirty_.end(), &conn), dirty_.end());
  maybe_finish();
}

// ---- the end ---------------------------------------------------------------------------

void CoreDriver::end_arrivals() {
  if (mode_ == Mode::kOpen || mode_ == Mode::kClosed) mode_ = Mode::kDraining;
  maybe_finish();
}

void CoreDriver::maybe_finish() {
  if (mode_ != Mode::kDraining) return;
  for (const ClientConnection* c : alive_)
    if (c->outstanding() != 0 || c->waiting() != 0) return;
  finish();
}

void CoreDriver::finish() {
  if (mode_ == Mode::kIdle) return;
  mode_ = Mode::kIdle;
  if (ticker_ != 0) {
    remove_idle_handler(ticker_);
    ticker_ = 0;
  }
  for (ClientConnection* c : alive_) {
    (void)c->drop_waiting();
    recorder_.counters.unfinished += c->in_flight_counted();
  }
  recorder_.close();  // late replies count for nothing
  done_.set_value();
}

CoreSnapshot CoreDriver::snapshot() const {
  CoreSnapshot s;
  s.counters = recorder_.counters;
  s.histogram = recorder_.histogram;
  s.send_lag = recorder_.send_lag;
  s.replies = recorder_.replies;
  s.failed_connections = failed_;
  s.failure = failure_;
  return s;
}

Future<void> CoreDriver::close() {
  closed_ = Promise<void>();
  Future<void> done = closed_.get_future();
  if (open_ == 0) {
    closed_.set_value();
    return done;
  }
  for (auto& c : connections_) {
    c->close([this] {
      if (--open_ == 0) closed_.set_value();
    });
  }
  return done;
}

}  // namespace ebb::loadgen
