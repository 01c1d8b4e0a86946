#include "apps/memcached/store/clock.h"

#include <ctime>

#include "runtime/platform.h"

namespace ebb::memcached {

namespace {
// Server time starts at this many seconds, as memcached's does: an item
// stored in the first second can then expire "one second ago".
constexpr ServerTime kStartOffset = 2;
}  // namespace

ServerClock::ServerClock()
    : started_ns_(platform::now_ns()),
      started_unix_(static_cast<int64_t>(std::time(nullptr)) - kStartOffset) {}

ServerTime ServerClock::elapsed() const {
  return static_cast<ServerTime>((platform::now_ns() - started_ns_) / 1'000'000'000u) +
         kStartOffset;
}

Status ServerClock::start_ticking() {
  if (ticker_ != 0) return Error(Errc::kInvalidArgument, "memcached clock: ticking already");
  tick();
  Result<TimerId> id = add_periodic_timer(kTickPeriod, [this] { tick(); });
  if (!id) {
    ticked_.store(0, std::memory_order_relaxed);
    return id.error();
  }
  ticker_ = *id;
  return {};
}

void ServerClock::stop_ticking() {
  if (ticker_ == 0) return;
  cancel_timer(ticker_);
  ticker_ = 0;
  ticked_.store(0, std::memory_order_relaxed);
}

ServerTime ServerClock::expiry(int64_t exptime) const {
  if (exptime == 0) return 0;
  if (exptime < 0) return 1;  // in the past: expired at once
  if (exptime > kMaxRelative) {
    // Absolute: at or before the start is already past.
    if (exptime <= started_unix_) return 1;
    const int64_t t = exptime - started_unix_;
    return t > UINT32_MAX ? UINT32_MAX : static_cast<ServerTime>(t);
  }
  return static_cast<ServerTime>(exptime) + now();
}

int64_t ServerClock::seconds_left(ServerTime exptime) const {
  if (exptime == 0) return -1;
  const ServerTime t = now();
  return exptime > t ? static_cast<int64_t>(exptime - t) : 0;
}

}  // namespace ebb::memcached
