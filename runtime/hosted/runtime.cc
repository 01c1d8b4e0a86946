#include "runtime/hosted/runtime.h"

#include <pthread.h>
#include <sched.h>

#include <chrono>
#include <cstdlib>
#include <cstring>

#include "runtime/event_loop.h"
#include "runtime/hosted/fd_watch.h"
#include "runtime/id_allocator.h"
#include "runtime/log.h"
#include "runtime/root_registry.h"

namespace ebb {
namespace {

std::atomic<bool> g_runtime_exists{false};
std::atomic<uint32_t> g_shutdown_requested{0};

constexpr std::size_t kDefaultStackBytes = (EBB_ASAN || EBB_TSAN) ? 1024 * 1024 : 256 * 1024;
constexpr uint64_t kDefaultIdleSpinNs = 20'000;
// Ebbs made by destructors during teardown are torn down too, up to this many rounds.
constexpr int kTeardownRounds = 8;

std::vector<int> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<int> cpus;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
      if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  if (cpus.empty()) cpus.push_back(0);
  return cpus;
}

void apply_log_level_from_environment() {
  const char* level = std::getenv("EBB_LOG");
  if (level == nullptr) return;
  if (std::strcmp(level, "debug") == 0) set_log_level(LogLevel::kDebug);
  else if (std::strcmp(level, "info") == 0) set_log_level(LogLevel::kInfo);
  else if (std::strcmp(level, "warn") == 0) set_log_level(LogLevel::kWarn);
  else if (std::strcmp(level, "error") == 0) set_log_level(LogLevel::kError);
  else log_warn("EBB_LOG=%s is not one of debug, info, warn, error; ignored", level);
}

void core_thread(CoreId core, int cpu) {
  char name[16];
  std::snprintf(name, sizeof name, "ebb-core-%u", core);
  pthread_setname_np(pthread_self(), name);
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) != 0)
      log_warn("core %u: could not pin to CPU %d; running unpinned", core, cpu);
  }
  detail::run_core(core);
}

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

uint32_t Runtime::available_cpus() { return static_cast<uint32_t>(allowed_cpus().size()); }

Runtime::Runtime(const RuntimeOptions& options) {
  EBB_CHECK(!g_runtime_exists.exchange(true), "only one ebb::Runtime may exist at a time");
  apply_log_level_from_environment();
  const std::vector<int> cpus = allowed_cpus();
  cores_ = options.cores != 0 ? options.cores : static_cast<uint32_t>(cpus.size());
  EBB_CHECK(cores_ <= kMaxCores, "Runtime: %u cores asked for; at most %u are supported", cores_,
            kMaxCores);

  detail::LoopConfig config;
  config.stack_bytes = options.stack_bytes != 0 ? options.stack_bytes : kDefaultStackBytes;
  if (options.idle_spin_ns >= 0) config.idle_spin_ns = static_cast<uint64_t>(options.idle_spin_ns);
  else config.idle_spin_ns = cores_ <= cpus.size() ? kDefaultIdleSpinNs : 0;

  g_shutdown_requested.store(0);
  detail::create_cores(cores_, config);
  for (CoreId core = 0; core < cores_; ++core) hosted::detail::create_poller(core);
  threads_.reserve(cores_);
  for (CoreId core = 0; core < cores_; ++core) {
    const int cpu = options.pin ? cpus[core % cpus.size()] : -1;
    threads_.emplace_back(core_thread, core, cpu);
  }
  detail::wait_for_core_starts();
  running_ = true;
}

Runtime::~Runtime() { shutdown(); }

void Runtime::wait_until_drained() {
  const auto start = std::chrono::steady_clock::now();
  auto next_warning = start + std::chrono::seconds(10);
  while (!detail::drained()) {
    std::this_thread::sleep_for(std::chrono::microseconds(50));
    if (std::chrono::steady_clock::now() > next_warning) {
      log_warn("shutdown: still draining after %lld s (an event that keeps queueing events?)",
               static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(
                                          std::chrono::steady_clock::now() - start)
                                          .count()));
      next_warning += std::chrono::seconds(10);
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
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  for (CoreId core = 0; core < cores_; ++core) hosted::detail::destroy_poller(core);
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
