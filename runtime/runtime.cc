// The platform-neutral half of Runtime: the order of start and shutdown. The
// platform starts and joins the cores (runtime/platform.h).

#include "runtime/runtime.h"

#include <vector>

#include "runtime/event_loop.h"
#include "runtime/id_allocator.h"
#include "runtime/log.h"
#include "runtime/root_registry.h"

namespace ebb {
namespace {

std::atomic<bool> g_runtime_exists{false};
std::atomic<uint32_t> g_shutdown_requested{0};

constexpr uint64_t kDefaultIdleSpinNs = 20'000;
// Ebbs made by destructors during teardown are torn down too, up to this many rounds.
constexpr int kTeardownRounds = 8;

// On core 0, in an event: destroy every Ebb, one at a time.
void tear_down_ebbs() {
  for (int round = 0; round < kTeardownRounds; ++round) {
    const std::vector<EbbId> ids = roots::detail::live_ids_for_teardown();
    if (ids.empty()) return;
    for (EbbId id : ids) {
      Status destroyed = roots::destroy(id).block();
      if (!destroyed) {
        char text[kErrorTextSize];
        log_warn("shutdown: Ebb %u: %s", id, destroyed.error().describe(text, sizeof text));
      }
    }
  }
  log_warn("shutdown: Ebbs were still being made after %d teardown rounds", kTeardownRounds);
}

}  // namespace

uint32_t Runtime::available_cpus() { return platform::available_cpus(); }

Runtime::Runtime(const RuntimeOptions& options) {
  EBB_CHECK(!g_runtime_exists.exchange(true), "only one ebb::Runtime may exist at a time");
  platform::configure_logging();
  const uint32_t cpus = platform::available_cpus();
  cores_ = options.cores != 0 ? options.cores : cpus;
  EBB_CHECK(cores_ <= kMaxCores, "Runtime: %u cores asked for; at most %u are supported", cores_,
            kMaxCores);
  detail::LoopConfig config;
  config.stack_bytes = options.stack_bytes != 0 ? options.stack_bytes : platform::default_stack_bytes();
  if (options.idle_spin_ns >= 0) config.idle_spin_ns = static_cast<uint64_t>(options.idle_spin_ns);
  else config.idle_spin_ns = cores_ <= cpus ? kDefaultIdleSpinNs : 0;
  g_shutdown_requested.store(0);
  detail::create_cores(cores_, config);
  platform::start_cores(cores_, options.pin);
  detail::wait_for_core_starts();
  running_ = true;
}

Runtime::~Runtime() { shutdown(); }

void Runtime::wait_until_drained() {
  const uint64_t start = platform::now_ns();
  uint64_t next_warning = start + 10'000'000'000;
  while (!detail::drained()) {
    platform::pause_briefly();
    if (platform::now_ns() > next_warning) {
      log_warn("shutdown: still draining after %llu s (an event that keeps queueing events?)",
               static_cast<unsigned long long>((platform::now_ns() - start) / 1'000'000'000));
      next_warning += 10'000'000'000;
    }
  }
}

void Runtime::shutdown() {
  if (!running_) return;
  running_ = false;
  detail::begin_drain();
  wait_until_drained();

  std::atomic<uint32_t> torn_down{0};
  detail::post(0, [&torn_down] {
    tear_down_ebbs();
    detail::wake_waiter(torn_down);
  });
  detail::wait_while_zero(torn_down);
  wait_until_drained();

  detail::request_exit();
  platform::join_cores(cores_);
  detail::destroy_cores();
  roots::detail::reset();
  ids::detail::reset_local_ids();
  g_runtime_exists.store(false);
}

void Runtime::wait_for_shutdown_request() {
  detail::wait_while_zero(g_shutdown_requested);
  shutdown();
}

void request_shutdown() { detail::wake_waiter(g_shutdown_requested); }

}  // namespace ebb
