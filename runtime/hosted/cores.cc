// The Runtime's cores on Linux: a thread each, pinned to one of the CPUs
// the process may run on, with its I/O poller (fd_watch.cc).

#include <pthread.h>
#include <sched.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "runtime/event_loop.h"
#include "runtime/hosted/fd_watch.h"
#include "runtime/log.h"
#include "runtime/platform.h"

namespace ebb::platform {
namespace {

// Never destroyed: a program may exit with its Runtime still running (its
// threads still joinable), which a destroyed std::thread would turn into
// std::terminate.
std::vector<std::thread>& core_threads() {
  static auto* threads = new std::vector<std::thread>;
  return *threads;
}

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
  ebb::detail::run_core(core);
}

}  // namespace

uint32_t available_cpus() { return static_cast<uint32_t>(allowed_cpus().size()); }

void configure_logging() {
  const char* level = std::getenv("EBB_LOG");
  if (level == nullptr) return;
  if (std::strcmp(level, "debug") == 0) set_log_level(LogLevel::kDebug);
  else if (std::strcmp(level, "info") == 0) set_log_level(LogLevel::kInfo);
  else if (std::strcmp(level, "warn") == 0) set_log_level(LogLevel::kWarn);
  else if (std::strcmp(level, "error") == 0) set_log_level(LogLevel::kError);
  else log_warn("EBB_LOG=%s is not one of debug, info, warn, error; ignored", level);
}

void start_cores(uint32_t cores, bool pin) {
  const std::vector<int> cpus = allowed_cpus();
  for (CoreId core = 0; core < cores; ++core) hosted::detail::create_poller(core);
  core_threads().reserve(cores);
  for (CoreId core = 0; core < cores; ++core)
    core_threads().emplace_back(core_thread, core, pin ? cpus[core % cpus.size()] : -1);
}

void join_cores(uint32_t cores) {
  for (std::thread& t : core_threads()) t.join();
  core_threads().clear();
  for (CoreId core = 0; core < cores; ++core) hosted::detail::destroy_poller(core);
}

void pause_briefly() { std::this_thread::sleep_for(std::chrono::microseconds(50)); }

}  // namespace ebb::platform
