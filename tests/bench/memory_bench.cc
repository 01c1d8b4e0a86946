// ebb-bench-memory: the Ebb allocators beside jemalloc and glibc, in one run.
//
// Every body runs on the cores of one 2-core runtime, whatever the
// allocator, so that all of them run on the same pinned threads:
//   BM_Pair64_*, BM_Pair1K_*      an allocation and its free, one core
//   BM_Batch1000_*                1000 allocations, then 1000 frees
//   BM_ThreadTest_*/threads:N     Hoard's threadtest: fixed work over N cores (items/s)
//   BM_LocalFree_Ebb              a free of an object of this core
//   BM_CrossCoreFree_Ebb          a free of core 0's object on core 1, with
//                                 core 0's time to take it back
//   BM_Pair64_EbbConstant, BM_Pair64_SlabDirect, BM_FixedFreeList
//                                 the compile-time size path, the same slab
//                                 path through a raw pointer (the hand-fused
//                                 equivalent), and a bare free list
// Targets (docs/PERFORMANCE.md): Pair64 Ebb no slower than jemalloc; threadtest
// on 2 cores at least 1.8x one core; a cross-core free under 2x a local one.

#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <vector>

#include "ebbs/memory/general/general_allocator.h"
#include "runtime/fiber.h"
#include "runtime/runtime.h"
#include "runtime/platform.h"
#include "runtime/stats.h"
#include "runtime/submit.h"

extern "C" {
void* __libc_malloc(std::size_t size);
void __libc_free(void* p);
}

namespace {

ebb::Runtime* g_runtime = nullptr;

template <class F>
void on_core0(benchmark::State& state, F&& body) {
  ebb::Status ran = g_runtime->run_on(0, [&] { body(); });
  if (!ran.ok()) state.SkipWithError("could not run on core 0");
}

// ---- the allocators, behind one shape ---------------------------------------

struct Ebb {
  static void* allocate(std::size_t size) { return ebb::mem::malloc(size); }
  static void release(void* p) { ebb::mem::free(p); }
};
#ifdef EBB_HAVE_JEMALLOC
struct Jemalloc {  // jemalloc is this process's malloc
  static void* allocate(std::size_t size) { return std::malloc(size); }
  static void release(void* p) { std::free(p); }
};
#endif
struct Glibc {
  static void* allocate(std::size_t size) { return __libc_malloc(size); }
  static void release(void* p) { __libc_free(p); }
};

// ---- one core ---------------------------------------------------------------

template <class A, std::size_t kSize>
void BM_Pair(benchmark::State& state) {
  on_core0(state, [&] {
    for (auto _ : state) {
      void* p = A::allocate(kSize);
      benchmark::DoNotOptimize(p);
      A::release(p);
    }
  });
}

template <class A>
void BM_Batch1000(benchmark::State& state) {
  on_core0(state, [&] {
    std::vector<void*> objects(1000);
    for (auto _ : state) {
      for (void*& p : objects) p = A::allocate(64);
      benchmark::DoNotOptimize(objects.data());
      for (void* p : objects) A::release(p);
    }
    state.SetItemsProcessed(state.iterations() * 1000);
  });
}

// The constant-size path: the class, and so the Ebb id, is a constant.
void BM_Pair64_EbbConstant(benchmark::State& state) {
  on_core0(state, [&] {
    for (auto _ : state) {
      void* p = ebb::mem::allocate<64>();
      benchmark::DoNotOptimize(p);
      ebb::mem::deallocate<64>(p);
    }
  });
}

// The caller knows the size: free_sized skips the slab lookup.
void BM_Pair64_EbbSized(benchmark::State& state) {
  on_core0(state, [&] {
    for (auto _ : state) {
      void* p = ebb::mem::malloc(64);
      benchmark::DoNotOptimize(p);
      ebb::mem::free_sized(p, 64);
    }
  });
}

// The same slab path through a raw pointer to this core's rep: the
// hand-fused equivalent, so the difference is what the composition (the Ref
// and the size class picked at compile time) costs.
void BM_Pair64_SlabDirect(benchmark::State& state) {
  on_core0(state, [&] {
    constexpr ebb::Ref<ebb::mem::SlabAllocator> kClass(ebb::mem::class_id(ebb::mem::class_of(64)));
    ebb::mem::SlabAllocator* rep = &*kClass;
    benchmark::DoNotOptimize(rep);
    for (auto _ : state) {
      void* p = rep->allocate();
      benchmark::DoNotOptimize(p);
      rep->free(p);
    }
  });
}

// The floor for it: a hand-written per-thread free list of 64-byte blocks.
struct FixedFreeList {
  struct Node {
    Node* next;
  };
  Node* head = nullptr;
  void* allocate() {
    if (head == nullptr) refill();
    Node* n = head;
    head = n->next;
    return n;
  }
  void release(void* p) {
    auto* n = static_cast<Node*>(p);
    n->next = head;
    head = n;
  }
  void refill() {
    auto* chunk = static_cast<char*>(std::malloc(64 * 1024));
    for (int i = 0; i < 1024; ++i) release(chunk + i * 64);
  }
};
thread_local FixedFreeList t_fixed;

void BM_FixedFreeList(benchmark::State& state) {
  on_core0(state, [&] {
    for (auto _ : state) {
      void* p = t_fixed.allocate();
      benchmark::DoNotOptimize(p);
      t_fixed.release(p);
    }
  });
}

// ---- Hoard's threadtest: each core allocates and frees its share -------------

// Hoard's threadtest with its default counts (50 rounds, 30000 objects):
// each round allocates the objects then frees them, split evenly over the
// cores (so 2 cores should take half as long); 64-byte objects.
template <class A, uint32_t cores>
void BM_ThreadTest(benchmark::State& state) {
  constexpr int kObjects = 30'000;
  constexpr int kRounds = 50;
  const int per_core = kObjects / static_cast<int>(cores);
  for (auto _ : state) {
    auto ran = g_runtime->run_on(0, [&] {
      std::vector<ebb::Future<void>> work;
      for (ebb::CoreId core = 0; core < cores; ++core) {
        work.push_back(ebb::submit_to(core, [per_core] {
          thread_local std::vector<void*> objects;
          objects.resize(static_cast<std::size_t>(per_core));
          for (int round = 0; round < kRounds; ++round) {
            for (void*& p : objects) p = A::allocate(64);
            benchmark::DoNotOptimize(objects.data());
            for (void* p : objects) A::release(p);
          }
        }));
      }
      return ebb::when_all(std::move(work));
    });
    if (!ran.ok()) state.SkipWithError("threadtest round failed");
  }
  state.SetItemsProcessed(state.iterations() * kObjects * kRounds);
}

// ---- frees on the owner core, and on another core ----------------------------

// The cost of freeing: objects are allocated on core 0 (not timed), then
// freed on `freer` (timed there). When freer is core 1, they travel home to
// core 0, and the busy time core 0 spends taking them back is added: the
// figure is everything a remote free costs, on both cores.
constexpr int kFreeBatch = 4096;

void BM_Free(benchmark::State& state, ebb::CoreId freer) {
  const ebb::Ref<ebb::mem::SlabAllocator> slabs(ebb::mem::class_id(ebb::mem::class_of(64)));
  auto received = [&slabs] {
    return (*ebb::mem::SlabAllocator::RootOf(slabs.id()))->stats().remote_frees_received;
  };
  std::vector<void*> objects(kFreeBatch);
  uint64_t freeing_ns = 0, home_ns = 0;
  while (state.KeepRunningBatch(kFreeBatch)) {
    (void)g_runtime->run_on(0, [&] {
      for (void*& p : objects) p = Ebb::allocate(64);
    });
    const uint64_t home_before = ebb::core_stats(0).busy_ns;
    const uint64_t received_before = received();
    const auto freeing = g_runtime->run_on(freer, [&] {
      // The freeing core has been using these pointers (as a core that frees
      // an object normally has): bring them over first, untimed.
      uintptr_t sum = 0;
      for (void* p : objects) sum += reinterpret_cast<uintptr_t>(p);
      benchmark::DoNotOptimize(sum);
      const uint64_t start = ebb::platform::now_ns();
      for (void* p : objects) Ebb::release(p);
      if (freer != 0) slabs->flush_remote_frees();
      return ebb::platform::now_ns() - start;
    });
    uint64_t ns = freeing.ok() ? *freeing : 0;
    freeing_ns += ns;
    if (freer != 0) {
      // The batches do not wake core 0 (it is idle here): give it a turn,
      // then wait (off-core, not to disturb it) until it has them all.
      (void)g_runtime->run_on(0, [] {});
      while (received() < received_before + kFreeBatch) {
      }
      const uint64_t home = ebb::core_stats(0).busy_ns - home_before;
      home_ns += home;
      ns += home;
    }
    state.SetIterationTime(static_cast<double>(ns) / 1e9);
  }
  // The two shares, per object: on the freeing core, and back home.
  const auto per_object = [&state](uint64_t ns) {
    return benchmark::Counter(static_cast<double>(ns) / static_cast<double>(state.iterations()));
  };
  state.counters["freeing_ns"] = per_object(freeing_ns);
  state.counters["home_ns"] = per_object(home_ns);
}

void BM_LocalFree_Ebb(benchmark::State& state) { BM_Free(state, 0); }
void BM_CrossCoreFree_Ebb(benchmark::State& state) { BM_Free(state, 1); }

}  // namespace

BENCHMARK(BM_Pair<Ebb, 64>)->Name("BM_Pair64_Ebb");
BENCHMARK(BM_Pair64_EbbSized);
BENCHMARK(BM_Pair64_EbbConstant);
BENCHMARK(BM_Pair64_SlabDirect);
BENCHMARK(BM_FixedFreeList);
#ifdef EBB_HAVE_JEMALLOC
BENCHMARK(BM_Pair<Jemalloc, 64>)->Name("BM_Pair64_Jemalloc");
#endif
BENCHMARK(BM_Pair<Glibc, 64>)->Name("BM_Pair64_Glibc");
BENCHMARK(BM_Pair<Ebb, 1024>)->Name("BM_Pair1K_Ebb");
#ifdef EBB_HAVE_JEMALLOC
BENCHMARK(BM_Pair<Jemalloc, 1024>)->Name("BM_Pair1K_Jemalloc");
#endif
BENCHMARK(BM_Pair<Glibc, 1024>)->Name("BM_Pair1K_Glibc");
BENCHMARK(BM_Batch1000<Ebb>)->Name("BM_Batch1000_Ebb");
#ifdef EBB_HAVE_JEMALLOC
BENCHMARK(BM_Batch1000<Jemalloc>)->Name("BM_Batch1000_Jemalloc");
#endif
BENCHMARK(BM_Batch1000<Glibc>)->Name("BM_Batch1000_Glibc");
BENCHMARK_TEMPLATE(BM_ThreadTest, Ebb, 1)->Name("BM_ThreadTest_Ebb/threads:1")->UseRealTime();
BENCHMARK_TEMPLATE(BM_ThreadTest, Ebb, 2)->Name("BM_ThreadTest_Ebb/threads:2")->UseRealTime();
#ifdef EBB_HAVE_JEMALLOC
BENCHMARK_TEMPLATE(BM_ThreadTest, Jemalloc, 1)->Name("BM_ThreadTest_Jemalloc/threads:1")->UseRealTime();
BENCHMARK_TEMPLATE(BM_ThreadTest, Jemalloc, 2)->Name("BM_ThreadTest_Jemalloc/threads:2")->UseRealTime();
#endif
BENCHMARK_TEMPLATE(BM_ThreadTest, Glibc, 1)->Name("BM_ThreadTest_Glibc/threads:1")->UseRealTime();
BENCHMARK_TEMPLATE(BM_ThreadTest, Glibc, 2)->Name("BM_ThreadTest_Glibc/threads:2")->UseRealTime();
BENCHMARK(BM_LocalFree_Ebb)->UseManualTime();
BENCHMARK(BM_CrossCoreFree_Ebb)->UseManualTime();

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  // glibc's malloc (behind jemalloc here) sets itself up on the thread that
  // calls it first and counts that thread as its main arena's one user: it
  // must be this main thread. Were it a core, two threads would leave the
  // main arena at exit, and glibc's count check aborts the process.
  __libc_free(__libc_malloc(1));
  ebb::Runtime runtime({.cores = 2});
  g_runtime = &runtime;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
