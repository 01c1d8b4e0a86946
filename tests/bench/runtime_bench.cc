// ebb-bench-runtime: the runtime's composition points beside their floors.
//
// Every benchmark body runs on core 0 of one 2-core runtime (core 1 is the
// peer for the cross-core ones), so all numbers come from the same pinned
// threads in one run:
//   BM_RefCall vs BM_RawPointerCall / BM_VirtualCall   (target: within 1.2x of raw)
//   BM_FiberSwitch vs BM_RawFcontextSwitch             (target: within 2x)
//   BM_SpawnLocal                                      (target: under 50 ns)
//   BM_RemoteSpawnRoundTrip vs BM_CacheLinePingPong    (target: within 3x)
//   BM_RefFirstUse, BM_FutureThen                      (the slow paths, for the record)

#include <benchmark/benchmark.h>

#include <atomic>
#include <boost/context/detail/fcontext.hpp>
#include <cstdlib>
#include <memory>

#include "runtime/fiber.h"
#include "runtime/future.h"
#include "runtime/runtime.h"
#include "runtime/platform.h"
#include "runtime/shared_ebb.h"
#include "runtime/spawn.h"
#include "runtime/static_ids.h"

namespace {

ebb::Runtime* g_runtime = nullptr;

// Runs a benchmark body on core 0.
template <class F>
void on_core0(benchmark::State& state, F&& body) {
  ebb::Status ran = g_runtime->run_on(0, [&] { body(); });
  if (!ran.ok()) state.SkipWithError("could not run on core 0");
}

// ---- calls ------------------------------------------------------------------

struct Base {
  virtual ~Base() = default;
  virtual void bump() = 0;
};

// The same non-inlined method reached three ways: raw pointer, virtual call,
// and Ref (through the translation table).
class Widget : public Base, public ebb::SharedEbb<Widget> {
 public:
  EBB_NOINLINE void bump() override { count_ = count_ + 1; }
  uint64_t count() const { return count_; }

 private:
  volatile uint64_t count_ = 0;
};

// Globals are reloaded after every opaque call, as a table slot is.
Widget* g_raw = nullptr;
Base* g_virtual = nullptr;
constexpr ebb::Ref<Widget> kWidget(ebb::ids::kBenchRefId);
constexpr ebb::Ref<Widget> kFaulting(ebb::ids::kBenchFaultId);

void BM_RawPointerCall(benchmark::State& state) {
  on_core0(state, [&] {
    for (auto _ : state) g_raw->bump();
  });
}
BENCHMARK(BM_RawPointerCall);

void BM_VirtualCall(benchmark::State& state) {
  on_core0(state, [&] {
    for (auto _ : state) g_virtual->bump();
  });
}
BENCHMARK(BM_VirtualCall);

void BM_RefCall(benchmark::State& state) {
  on_core0(state, [&] {
    kWidget->bump();  // the first use faults; the loop measures cached calls
    for (auto _ : state) kWidget->bump();
  });
}
BENCHMARK(BM_RefCall);

// A Ref with a node-local (dynamic) id: two more dependent loads.
ebb::Ref<Widget> g_dynamic;
void BM_RefCallDynamicId(benchmark::State& state) {
  on_core0(state, [&] {
    g_dynamic->bump();
    for (auto _ : state) g_dynamic->bump();
  });
}
BENCHMARK(BM_RefCallDynamicId);

void BM_RefFirstUse(benchmark::State& state) {
  on_core0(state, [&] {
    for (auto _ : state) {
      ebb::translation::clear(kFaulting.id());  // forget this core's rep
      kFaulting->bump();                        // fault: registry, install
    }
  });
}
BENCHMARK(BM_RefFirstUse);

// ---- events and fibers ----------------------------------------------------

void BM_SpawnLocal(benchmark::State& state) {
  on_core0(state, [&] {
    uint64_t n = 0;
    for (auto _ : state) {
      ebb::spawn_local([] { benchmark::ClobberMemory(); });
      // Let the loop run the queued events now and then (one yield per 256).
      if ((++n & 255) == 0) ebb::yield();
    }
    ebb::yield();
  });
}
BENCHMARK(BM_SpawnLocal);

// Block and resume: the event parks, the loop runs its resumption, and the
// event continues.
void BM_FiberSwitch(benchmark::State& state) {
  on_core0(state, [&] {
    for (auto _ : state) ebb::yield();
  });
}
BENCHMARK(BM_FiberSwitch);

namespace fctx = boost::context::detail;

void bounce(fctx::transfer_t t) {
  for (;;) t = fctx::jump_fcontext(t.fctx, nullptr);
}

// The floor: Boost.Context alone, a jump to a context and back.
void BM_RawFcontextSwitch(benchmark::State& state) {
  on_core0(state, [&] {
    constexpr std::size_t kBytes = 64 * 1024;
    auto stack = std::make_unique<char[]>(kBytes);
    fctx::fcontext_t peer = fctx::make_fcontext(stack.get() + kBytes, kBytes, &bounce);
    for (auto _ : state) peer = fctx::jump_fcontext(peer, nullptr).fctx;
  });
}
BENCHMARK(BM_RawFcontextSwitch);

// The same round trip, but both sides switch from inside `depth` nested
// calls that return after landing: each level costs a mispredicted return
// (the reason the runtime's switches are inline; docs/ARCHITECTURE.md).
template <int kDepth>
EBB_NOINLINE fctx::transfer_t jump_through_frames(fctx::fcontext_t to) {
  if constexpr (kDepth == 0) {
    return fctx::jump_fcontext(to, nullptr);
  } else {
    fctx::transfer_t t = jump_through_frames<kDepth - 1>(to);
    benchmark::ClobberMemory();  // keeps the frame (no tail call)
    return t;
  }
}

template <int kDepth>
void bounce_through_frames(fctx::transfer_t t) {
  for (;;) t = jump_through_frames<kDepth>(t.fctx);
}

template <int kDepth>
void BM_RawFcontextSwitchThroughFrames(benchmark::State& state) {
  on_core0(state, [&] {
    constexpr std::size_t kBytes = 64 * 1024;
    auto stack = std::make_unique<char[]>(kBytes);
    fctx::fcontext_t peer =
        fctx::make_fcontext(stack.get() + kBytes, kBytes, &bounce_through_frames<kDepth>);
    for (auto _ : state) peer = jump_through_frames<kDepth>(peer).fctx;
  });
}
BENCHMARK(BM_RawFcontextSwitchThroughFrames<1>)->Name("BM_RawFcontextSwitchThroughFrames/1");
BENCHMARK(BM_RawFcontextSwitchThroughFrames<2>)->Name("BM_RawFcontextSwitchThroughFrames/2");

// ---- across cores ---------------------------------------------------------

// Core 0 sends an event to core 1, which sends the resumption of core 0's
// parked event back: two remote spawns, one park and one resume.
void BM_RemoteSpawnRoundTrip(benchmark::State& state) {
  on_core0(state, [&] {
    for (auto _ : state) {
      ebb::EventContext context;
      ebb::EventContext* waiting = &context;
      (void)ebb::spawn_remote(1, [waiting] { ebb::unpark(*waiting); });
      ebb::park(context);
    }
  });
}
BENCHMARK(BM_RemoteSpawnRoundTrip)->UseRealTime();

// The floor: the same two pinned threads bounce one cache line.
void BM_CacheLinePingPong(benchmark::State& state) {
  alignas(64) static std::atomic<uint64_t> ball{0};
  static std::atomic<bool> stop{false};
  ball = 0;
  stop = false;
  std::atomic<bool> pong_running{false};
  std::atomic<bool> pong_done{false};
  (void)ebb::spawn_remote(1, [&pong_running, &pong_done] {
    pong_running = true;
    uint64_t expect = 1;
    while (!stop.load(std::memory_order_relaxed)) {
      if (ball.load(std::memory_order_acquire) == expect) {
        ball.store(expect + 1, std::memory_order_release);
        expect += 2;
      }
    }
    pong_done = true;
  });
  while (!pong_running.load()) {
  }
  on_core0(state, [&] {
    uint64_t next = 0;
    for (auto _ : state) {
      ball.store(next + 1, std::memory_order_release);
      while (ball.load(std::memory_order_acquire) != next + 2) {
      }
      next += 2;
    }
  });
  stop = true;
  while (!pong_done.load()) {
  }
}
BENCHMARK(BM_CacheLinePingPong)->UseRealTime();

// ---- futures ----------------------------------------------------------------

void BM_FutureThen(benchmark::State& state) {
  on_core0(state, [&] {
    for (auto _ : state) {
      ebb::Promise<int> promise;
      ebb::Future<int> next = promise.get_future().then([](int x) { return x + 1; });
      promise.set_value(1);
      benchmark::DoNotOptimize(next.ready());
    }
  });
}
BENCHMARK(BM_FutureThen);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  ebb::Runtime runtime({.cores = 2});
  g_runtime = &runtime;
  auto* raw = new Widget();
  g_raw = raw;
  g_virtual = raw;
  g_dynamic = Widget::Create().value();
  if (!Widget::CreateWithId(kFaulting.id()).ok()) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  delete raw;
  return 0;
}
