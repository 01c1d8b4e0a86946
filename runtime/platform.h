#pragma once
// The platform interface: everything the platform-neutral runtime needs from
// the machine under it. runtime/hosted implements it over Linux (threads,
// eventfd, epoll, Boost.Context); runtime/native over bare x86-64. Nothing
// outside runtime/<platform>/ includes a platform's own headers.

#include <cstddef>
#include <cstdint>

#include "runtime/core.h"
#include "runtime/result.h"

namespace ebb::platform {

// Monotonic time in nanoseconds.
uint64_t now_ns();

// Diagnostics: raw console output (no allocation), a backtrace of the caller,
// and an immediate stop of the whole process or machine.
void console_write(const char* text, std::size_t length);
void print_backtrace(int skip_frames);
[[noreturn]] void abort_process();

// ---- Fiber stacks and context switches ------------------------------------
struct Stack;  // defined by the platform; carries guard pages and tool state

// The fiber stack size when the Runtime's options give none: hosted, 256 KiB
// of mapping that costs memory only where touched (1 MiB under
// sanitizers); native, 64 KiB of RAM pages below an unmapped guard.
std::size_t default_stack_bytes();
// A stack of at least `bytes` usable bytes, or null when memory is exhausted.
Stack* stack_create(std::size_t bytes);
void stack_destroy(Stack* stack);

// A suspended execution: what switch_to resumes.
struct Context {
  void* handle = nullptr;  // platform's saved state (an fcontext_t hosted)
  Stack* stack = nullptr;  // null for the thread's or CPU's own boot stack
};

using ContextEntry = void (*)(void* arg, Stack* released);

// A context that, when first switched to, runs entry(arg, released) on `stack`
// (entry never returns; it leaves by switching away).
Context make_context(Stack* stack, ContextEntry entry, void* arg);

// switch_to(), the switch itself, is inline: runtime/platform_switch.h.

// ---- Memory for the page allocator ----------------------------------------
inline constexpr std::size_t kRegionAlignment = std::size_t{2} << 20;  // 2 MiB

struct MemoryRegion {
  void* base = nullptr;
  std::size_t bytes = 0;
  bool huge_pages = false;  // backed by (or advised to use) 2 MiB pages
};

// A fresh region of `bytes` (a multiple of kRegionAlignment), aligned to
// kRegionAlignment, for NUMA node `node`. Hosted: mmap, with huge pages when
// the system grants them; pages cost memory only once touched.
// Errc::kExhausted when the system has none to give.
Result<MemoryRegion> take_memory(std::size_t bytes, uint32_t node);
// Returns the memory. keep: leave the region as it is, mapped and readable,
// for the life of the process (a malloc replacement needs that: its callers
// may still hold objects there, and its addresses must never be reused).
void give_back_memory(const MemoryRegion& region, bool keep = false);
// The contents of [base, base + bytes) (2 MiB aligned, inside a region) are
// no longer needed: the platform may take the physical memory back; the
// range stays usable and reads as zeros, or as it was, when next touched.
void discard_memory(void* base, std::size_t bytes);

// How much the page allocator takes at a time when its options name no
// size: hosted, 256 MiB of address space (pages cost only once touched);
// native, a sixteenth of the RAM the page allocator may have, at most that.
std::size_t default_region_bytes();

// ---- The platform's own heap ---------------------------------------------
// What malloc falls back to where the memory Ebbs do not serve (off the
// cores, before the runtime starts, inside the Ebb allocators themselves):
// glibc's malloc hosted, the boot heap native. ebbs/memory/general's malloc
// override calls these; nothing else should.
void* system_allocate(std::size_t bytes, std::size_t alignment);
void system_free(void* p);
std::size_t system_usable_size(void* p);

// NUMA topology: how many nodes, and which one a core's CPU sits on.
uint32_t numa_nodes();
uint32_t numa_node_of(CoreId core);

// ---- The Runtime's cores (runtime/runtime.cc) ------------------------------
// The CPUs cores may run on: the process's allowed CPUs (hosted), every
// CPU of the image (native: core 0 shares the boot CPU with the owner).
uint32_t available_cpus();
// Sets the log level from the environment where there is one (EBB_LOG).
void configure_logging();
// Runs detail::run_core(core) for cores 0..cores-1, each on a CPU (thread)
// of its own; `pin` binds each to one CPU where the platform can choose.
void start_cores(uint32_t cores, bool pin);
// After detail::request_exit(): waits until every core's run_core returned.
void join_cores(uint32_t cores);
// A short wait in a polling loop off the cores (a sleep or a pause).
void pause_briefly();

// ---- Sleeping and waking cores --------------------------------------------
// Makes `core` return from wait_for_work (or not enter it). Any thread.
void wake_core(CoreId core);
// Sleeps until woken, until I/O is ready, or until deadline_ns (now_ns time).
void wait_for_work(CoreId core, uint64_t deadline_ns);
// Queues events for ready I/O without blocking; true when it queued any.
bool poll_io(CoreId core);
// True while `core`'s CPU is shared with other runnable threads, so that
// spinning idle would only keep the CPU from them (the core then sleeps at
// once). Hosted: the core's thread waited for its CPU a noticeable share of
// the last few milliseconds (/proc schedstat); native: never. From `core`.
bool cpu_contended(CoreId core, uint64_t now_ns);

}  // namespace ebb::platform
