#include "runtime/log.h"

#include <atomic>
#include <cstdarg>
#include <cstdio>

#include "runtime/core.h"
#include "runtime/platform.h"

namespace ebb {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};

void vlog(LogLevel level, const char* format, va_list args) {
  if (level < g_level.load(std::memory_order_relaxed)) return;
  static constexpr const char* kNames[] = {"debug", "info", "warn", "error"};
  // One write per line so that lines from several cores do not interleave.
  char line[1024];
  int n;
  const CoreId core = this_core();
  if (core == kNoCore) {
    n = std::snprintf(line, sizeof line, "ebbkit %s: ", kNames[static_cast<int>(level)]);
  } else {
    n = std::snprintf(line, sizeof line, "ebbkit %s [core %u]: ", kNames[static_cast<int>(level)],
                      core);
  }
  n += std::vsnprintf(line + n, sizeof line - static_cast<std::size_t>(n) - 1, format, args);
  if (n > static_cast<int>(sizeof line) - 2) n = static_cast<int>(sizeof line) - 2;
  line[n++] = '\n';
  platform::console_write(line, static_cast<std::size_t>(n));
}

}  // namespace

void set_log_level(LogLevel level) { g_level.store(level, std::memory_order_relaxed); }
LogLevel log_level() { return g_level.load(std::memory_order_relaxed); }

#define EBB_DEFINE_LOG(name, level) \
  void name(const char* format, ...) { \
    va_list args;                      \
    va_start(args, format);            \
    vlog(level, format, args);         \
    va_end(args);                      \
  }
EBB_DEFINE_LOG(log_debug, LogLevel::kDebug)
EBB_DEFINE_LOG(log_info, LogLevel::kInfo)
EBB_DEFINE_LOG(log_warn, LogLevel::kWarn)
EBB_DEFINE_LOG(log_error, LogLevel::kError)
#undef EBB_DEFINE_LOG

}  // namespace ebb
