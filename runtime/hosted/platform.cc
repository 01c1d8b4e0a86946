// The hosted platform's basics: time, console, backtraces, and how threads
// that are not cores wait for a Future.

#include <execinfo.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <ctime>

#include "runtime/future.h"
#include "runtime/platform.h"

namespace ebb {

uint64_t platform::now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

void platform::console_write(const char* text, std::size_t length) {
  while (length > 0) {
    const ssize_t n = ::write(STDERR_FILENO, text, length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text += n;
    length -= static_cast<std::size_t>(n);
  }
}

void platform::print_backtrace(int skip_frames) {
  void* frames[64];
  const int n = backtrace(frames, 64);
  if (n > skip_frames) backtrace_symbols_fd(frames + skip_frames, n - skip_frames, STDERR_FILENO);
}

void platform::abort_process() { std::abort(); }

void detail::wait_while_zero(std::atomic<uint32_t>& flag) {
  while (flag.load(std::memory_order_acquire) == 0) flag.wait(0, std::memory_order_acquire);
}

void detail::wake_waiter(std::atomic<uint32_t>& flag) {
  flag.store(1, std::memory_order_release);
  flag.notify_all();
}

}  // namespace ebb
