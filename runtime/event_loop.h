#pragma once
// The per-core event loop, shared by both platforms (internal to runtime/).
//
// Each turn the loop runs, in order: events from other cores and threads
// (bounded per turn), due timers, local events (bounded per turn), ready I/O,
// and idle handlers; then it reports a quiescent state to RCU. With nothing to
// do it spins briefly, then sleeps in the platform until woken.
//
// Events between cores travel on a CoreChannel per (sender, receiver) pair,
// made on the first send; a full channel spills, in order, into the sender's
// overflow queue, which the sender's loop flushes. Threads that are not cores
// use the receiver's lock-free `external` queue.
//
// Blocking: the loop itself runs on a pooled stack. When an event parks, the
// core continues the loop on another stack ("spare loop" or a fresh one);
// resuming a parked event switches back to its stack, and the loop stack that
// ran the resume is kept as the next spare. No loop state lives on a loop
// stack across events, so any stack can carry the loop on.

#include <atomic>
#include <cstdint>
#include <deque>
#include <vector>

#include "runtime/compiler.h"
#include "runtime/core.h"
#include "runtime/core_channel.h"
#include "runtime/fiber.h"
#include "runtime/platform.h"
#include "runtime/remote_queue.h"
#include "runtime/ring_queue.h"
#include "runtime/spawn.h"
#include "runtime/stats.h"
#include "runtime/timer_heap.h"

namespace ebb::detail {

struct LoopConfig {
  std::size_t stack_bytes = 256 * 1024;
  uint64_t idle_spin_ns = 20'000;  // spin this long before sleeping
};

struct RemoteEvent : RemoteLink {
  explicit RemoteEvent(Event&& e) : event(std::move(e)) {}
  Event event;
};

struct IdleHandlerEntry {
  uint64_t id;
  Function<bool()> handler;
  Function<bool()> arm;  // empty: the core may not sleep while this handler is there
  bool removed;
};

enum class Phase : uint8_t {
  kStopped,   // no runtime
  kRunning,
  kDraining,  // shutdown: run what is queued, accept no work from outside
  kExiting,   // cores leave their loops
};

struct CoreState {
  CoreState(CoreId id, uint32_t cores, const LoopConfig& config);
  ~CoreState();

  // ---- touched by other threads ----
  RemoteQueue external;  // events from threads that are not cores
  // inbound[s]: the channel from core s, made by s on its first send; a set
  // bit in inbound_senders says which exist.
  std::atomic<CoreChannel*>* const inbound;
  std::atomic<uint64_t> inbound_senders[kMaxCores / 64] = {};
  alignas(kCacheLine) std::atomic<bool> sleeping{false};
  std::atomic<bool> quiet{false};  // draining, and nothing left to run here
  CoreCounters counters;

  // ---- this core only ----
  alignas(kCacheLine) const CoreId id;
  const uint32_t cores;
  const LoopConfig config;
  // outbound[d]: this core's channel to core d (null until the first send);
  // overflow[d]: events for d waiting for room, in order; `overflowing` lists
  // the d whose overflow is not empty.
  CoreChannel** const outbound;
  RingQueue<Event>** const overflow;
  std::vector<CoreId> overflowing;
  RingQueue<Event> local;
  TimerHeap timers;
  std::deque<IdleHandlerEntry> idle_handlers;
  uint64_t next_idle_handler_id = 1;
  uint32_t unarmed_idle_handlers = 0;  // handlers (not removed) without an arm hook
  bool in_idle_handler = false;

  // Events that yielded, oldest first (see yield()).
  EventContext* yielders = nullptr;
  EventContext** yielders_tail = &yielders;
  uint32_t io_watches = 0;            // the platform polls I/O only when there are some

  platform::Stack* current_stack = nullptr;     // the stack running right now
  std::vector<platform::Stack*> free_stacks;    // pool
  std::vector<platform::Stack*> all_stacks;     // every stack made (freed at exit)
  // Suspended loops, ready to carry on (a fixed array: no checks on the hot path).
  static constexpr uint32_t kMaxSpareLoops = 16;
  platform::Context spare_loops[kMaxSpareLoops];
  uint32_t spare_count = 0;
  platform::Context thread_context;             // where the core's thread entered
  uint64_t parked_now = 0;
};

inline constinit CoreState* g_cores[kMaxCores] = {};
inline constinit std::atomic<Phase> g_phase{Phase::kStopped};
// Events queued by threads that are not cores (they have no counters).
inline constinit std::atomic<uint64_t> g_external_sent{0};
inline thread_local constinit CoreState* tls_core = nullptr;

// The calling core's state; a panic naming `what` off a core.
CoreState& current_core(const char* what);

// ---- used by the platform's runtime to start and stop cores ----
// Creates the state of `cores` cores (no threads yet) and opens for work.
void create_cores(uint32_t cores, const LoopConfig& config);
// Runs the calling thread (or CPU) as `core` until the runtime exits.
void run_core(CoreId core);
// Waits until every core has run its start hooks (run_on_every_core_start),
// so that no outside work reaches a core before its services are in place.
void wait_for_core_starts();
// Shutdown, step 1: refuse outside work and wake every core.
void begin_drain();
// Shutdown, step 2: true once every core is idle with nothing queued, no
// event in flight between cores, and no RCU callback waiting.
bool drained();
// Shutdown, step 3: every core leaves its loop (run_core returns).
void request_exit();
// After every run_core has returned: frees the cores' state.
void destroy_cores();

}  // namespace ebb::detail
