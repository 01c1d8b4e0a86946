// Whether a core's CPU is shared: the idle loop spins only on a CPU of its
// own. Seastar asks the user (--overprovisioned); here the core looks at
// what the scheduler says about its thread: the second field of
// /proc/thread-self/schedstat is the time it spent runnable but waiting for
// a CPU. Read every kWindowNs at most, from the core's own idle path (an
// open, a read and a close: no descriptor is held, and the per-thread state
// is plain data, so a core thread owns nothing the runtime must clean up).

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

#include "runtime/platform.h"

namespace ebb::platform {
namespace {

constexpr uint64_t kWindowNs = 10'000'000;  // 10 ms
// Contended when the thread waited this share of a window or more (one
// part in kShareDivisor): 5%, far above the noise of a CPU of its own.
constexpr uint64_t kShareDivisor = 20;

// Per core thread (a runtime started later has threads of its own).
struct Contention {
  bool unreadable = false;  // no schedstat here: never contended
  bool started = false;
  bool contended = false;
  uint64_t window_start_ns = 0;
  uint64_t waited_ns = 0;  // the thread's wait total at window_start_ns
};
thread_local Contention t_contention;

// The calling thread's total wait for a CPU so far, in ns; false if unreadable.
bool read_wait(uint64_t* waited) {
  const int fd = ::open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char text[96];
  const ssize_t n = ::read(fd, text, sizeof text - 1);
  ::close(fd);
  if (n <= 0) return false;
  text[n] = '\0';
  char* end = nullptr;
  std::strtoull(text, &end, 10);  // time on the CPU
  if (end == text) return false;
  char* after = nullptr;
  *waited = std::strtoull(end, &after, 10);
  return after != end;
}

}  // namespace

bool cpu_contended(CoreId, uint64_t now_ns) {
  Contention& c = t_contention;
  if (c.unreadable || (c.started && now_ns - c.window_start_ns < kWindowNs)) return c.contended;
  uint64_t waited = 0;
  if (!read_wait(&waited)) {
    c.unreadable = true;
    c.contended = false;
    return false;
  }
  if (!c.started) {  // the first window starts now
    c.started = true;
    c.waited_ns = waited;
    c.window_start_ns = now_ns;
    return false;
  }
  c.contended = (waited - c.waited_ns) * kShareDivisor >= now_ns - c.window_start_ns;
  c.waited_ns = waited;
  c.window_start_ns = now_ns;
  return c.contended;
}

}  // namespace ebb::platform
