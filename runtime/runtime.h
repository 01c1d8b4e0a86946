#pragma once
// The Runtime: the cores of a process (hosted: pinned threads) or of an
// image (native: one CPU each; core 0 takes turns on the boot CPU with the
// owner, the code that made the Runtime).
//
//   int main() {
//     ebb::Runtime runtime({.cores = 4});
//     runtime.run_on(0, [] { /* an event on core 0: may use Refs, block, ... */ });
//   }   // ~Runtime drains every event, destroys every Ebb and joins the cores
//
// One Runtime at a time per process.

#include <cstdint>

#include "runtime/future.h"
#include "runtime/submit.h"

namespace ebb {

struct RuntimeOptions {
  uint32_t cores = 0;            // 0: one per CPU this process may run on
  bool pin = true;               // core i runs on the i-th allowed CPU (mod their count)
  std::size_t stack_bytes = 0;   // per fiber; 0: 256 KiB (1 MiB under sanitizers)
  int64_t idle_spin_ns = -1;     // -1: 20 µs, or 0 when cores outnumber CPUs
};

class Runtime {
 public:
  explicit Runtime(const RuntimeOptions& options = {});
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  uint32_t cores() const { return cores_; }
  // The CPUs this process may use, or every CPU of the image
  // (the default core count).
  static uint32_t available_cpus();

  // Runs fn() as an event on `core` and waits for it to finish; fn may block.
  // Returns what fn returns (a Status for void), or spawn_remote's error.
  // From a thread that is not a core.
  template <class F>
  Result<submit_result_t<F>> run_on(CoreId core, F&& fn) {
    return submit_to(core, std::forward<F>(fn)).block();
  }

  // Runs every event still queued (and those they queue), destroys every Ebb
  // (node-local ids newest first, then static ids), stops and joins the
  // cores. Timers not yet fired are dropped. Idempotent; ~Runtime calls it.
  void shutdown();

  // Blocks until some core calls request_shutdown(), then shuts down.
  void wait_for_shutdown_request();

 private:
  void wait_until_drained();
  uint32_t cores_ = 0;
  bool running_ = false;
};

// From any core or thread: asks the Runtime's owner (wait_for_shutdown_request)
// to shut down.
void request_shutdown();

}  // namespace ebb
