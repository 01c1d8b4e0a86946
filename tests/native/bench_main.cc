// ebb-bench-runtime.elf: the runtime's hot paths timed inside the image
// with the TSC, beside their hand-written equivalents (the in-image twin of
// tests/bench/runtime_bench.cc, whose harness, Google Benchmark, needs
// Linux). Each line: the median over 5 rounds of ns per operation.
//
//   BM_RawPointerCall   a non-inlined method through a global pointer
//   BM_RefCall          the same method through a Ref (the translation table)
//   BM_SpawnLocal       queueing an event on this core (and running it)
//
// Issue 7: three ways a core can reach its table's static slots, each as a
// Ref-shaped call in a loop (BM_RefCall_*: load, null check, call), as one
// such call per non-inlined function (BM_RefCallOnce_*: nothing found by
// the previous call stays in a register) and as the bare load in a loop
// (BM_TableLoad_*):
//   FsTls        the runtime's: a thread_local array, found through the FS base
//                (its call in a loop is BM_RefCall itself)
//   FsTlsPlain   the same slot read with a volatile load instead of the
//                relaxed atomic one (g++ folds only that into one %fs: load)
//   GsBase       a page of the CPU's at the GS base (tests/native/per_core_access.h)
//   PerCoreVa    a fixed virtual page this CPU alone maps (own PML4), at an
//                address that fits a 32-bit displacement
//   PerCoreVa64  the same page at an address that needs a 64-bit immediate
// These run round-robin (round 1 of each, then round 2, ...), so a slow
// spell of the shared host falls on all of them alike.

#include <algorithm>
#include <cinttypes>
#include <memory>
#include <cstdio>

#include "runtime/platform.h"
#include "runtime/runtime.h"
#include "runtime/shared_ebb.h"
#include "runtime/spawn.h"
#include "runtime/fiber.h"
#include "runtime/static_ids.h"
#include "tests/native/per_core_access.h"

namespace {

class Widget : public ebb::SharedEbb<Widget> {
 public:
  [[gnu::noinline]] void bump() { count_ = count_ + 1; }

 private:
  volatile uint64_t count_ = 0;
};

Widget* g_raw = nullptr;
constexpr ebb::EbbId kId = ebb::ids::kBenchRefId;
constexpr ebb::Ref<Widget> kWidget(kId);
constexpr int kRounds = 5;
volatile uintptr_t g_sink;  // keeps the bare loads' results alive

// body(n)'s ns per iteration.
double round_ns(uint64_t n, void (*body)(uint64_t)) {
  const uint64_t start = ebb::platform::now_ns();
  body(n);
  return static_cast<double>(ebb::platform::now_ns() - start) / static_cast<double>(n);
}

double median(double* rounds) {
  std::sort(rounds, rounds + kRounds);
  return rounds[kRounds / 2];
}

// The ways to this core's slot for kId (see the top of the file).
constexpr auto kFsTls = [] { return ebb::translation::lookup(kId); };
constexpr auto kFsTlsPlain = [] {
  return *reinterpret_cast<void* const volatile*>(&ebb::translation::detail::tls_static_slots[kId]);
};
constexpr auto kGsBase = [] { return ebb::bench::gs_slot<kId>(); };
constexpr auto kPerCoreVa = [] { return ebb::bench::per_core_slot<kId>(); };
constexpr auto kPerCoreVa64 = [] { return ebb::bench::per_core_far_slot<kId>(); };

// Ref::get() with the slot load swapped for Load's: the same shape (one
// load, a likely-taken null check, the cold fault call).
template <class Load>
EBB_ALWAYS_INLINE Widget& rep_through() {
  void* rep = Load{}();
  if (EBB_LIKELY(rep != nullptr)) return *static_cast<Widget*>(rep);
  return *Widget::HandleFault(kId);
}

void raw_call(uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) g_raw->bump();
}

void ref_call(uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) kWidget->bump();
}

template <class Load>
void ref_call_via(uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) rep_through<Load>().bump();
}

// One Ref call per function, as most callers make one: the loops above
// keep the FS thread pointer in a register across iterations, which hides
// how many instructions finding the table takes.
template <class Load>
[[gnu::noinline]] void call_once() {
  rep_through<Load>().bump();
}

template <class Load>
void ref_call_once(uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) call_once<Load>();
}

template <class Load>
void table_load(uint64_t n) {
  uintptr_t sum = 0;
  for (uint64_t i = 0; i < n; ++i) {
    sum += reinterpret_cast<uintptr_t>(Load{}());
    asm volatile("" ::: "memory");  // a plain load is read again each time
  }
  g_sink = sum;
}

struct Bench {
  const char* name;
  uint64_t n;
  void (*body)(uint64_t);
  int ratio_to;  // the line this one is shown as a ratio to, or -1
  double rounds[kRounds];
};

enum { kRaw, kRefFs, kOnceFs = 5 };
Bench g_benches[] = {
    {"BM_RawPointerCall", 2'000'000, raw_call, -1, {}},
    {"BM_RefCall", 2'000'000, ref_call, kRaw, {}},
    {"BM_RefCall_GsBase", 2'000'000, ref_call_via<decltype(kGsBase)>, kRaw, {}},
    {"BM_RefCall_PerCoreVa", 2'000'000, ref_call_via<decltype(kPerCoreVa)>, kRaw, {}},
    {"BM_RefCall_PerCoreVa64", 2'000'000, ref_call_via<decltype(kPerCoreVa64)>, kRaw, {}},
    {"BM_RefCallOnce_FsTls", 2'000'000, ref_call_once<decltype(kFsTls)>, -1, {}},
    {"BM_RefCallOnce_FsTlsPlain", 2'000'000, ref_call_once<decltype(kFsTlsPlain)>, kOnceFs, {}},
    {"BM_RefCallOnce_GsBase", 2'000'000, ref_call_once<decltype(kGsBase)>, kOnceFs, {}},
    {"BM_RefCallOnce_PerCoreVa", 2'000'000, ref_call_once<decltype(kPerCoreVa)>, kOnceFs, {}},
    {"BM_RefCallOnce_PerCoreVa64", 2'000'000, ref_call_once<decltype(kPerCoreVa64)>, kOnceFs, {}},
    {"BM_TableLoad_FsTls", 10'000'000, table_load<decltype(kFsTls)>, -1, {}},
    {"BM_TableLoad_GsBase", 10'000'000, table_load<decltype(kGsBase)>, -1, {}},
    {"BM_TableLoad_PerCoreVa", 10'000'000, table_load<decltype(kPerCoreVa)>, -1, {}},
    {"BM_TableLoad_PerCoreVa64", 10'000'000, table_load<decltype(kPerCoreVa64)>, -1, {}},
};

void spawn_local(uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) {
    ebb::spawn_local([] {});
    if ((i & 255) == 255) ebb::yield();  // let the loop run what is queued
  }
  ebb::yield();
}

}  // namespace

int main() {
  ebb::Runtime runtime({.cores = 1});
  auto results = runtime.run_on(0, [] {
    // From malloc, as the rep is: the same kind of memory on both sides.
    auto raw = std::make_unique<Widget>();
    g_raw = raw.get();
    kWidget->bump();  // the first use builds the rep; the loops measure cached calls
    // The GS page and the per-core page hold the rep the TLS table holds;
    // every line below but BM_SpawnLocal runs under the same (private) page
    // tables, so only the lookup differs.
    void* rep = ebb::translation::lookup(kId);
    ebb::bench::install_gs_block()[kId] = rep;
    ebb::bench::map_per_core_page()[kId] = rep;
    if (kFsTlsPlain() != rep || kGsBase() != rep || kPerCoreVa() != rep || kPerCoreVa64() != rep) {
      std::printf("per-core tables: a variant does not find the rep\n");
      return false;
    }
    for (int r = 0; r < kRounds; ++r)
      for (Bench& b : g_benches) b.rounds[r] = round_ns(b.n, b.body);
    ebb::bench::restore_page_tables();
    ebb::bench::remove_gs_block();
    double spawn_rounds[kRounds];
    for (double& r : spawn_rounds) r = round_ns(1'000'000, spawn_local);

    double medians[std::size(g_benches)];
    for (std::size_t i = 0; i < std::size(g_benches); ++i) medians[i] = median(g_benches[i].rounds);
    std::printf("%-26s %10s\n", "benchmark (median)", "ns/op");
    for (std::size_t i = 0; i < std::size(g_benches); ++i) {
      const Bench& b = g_benches[i];
      if (b.ratio_to < 0) {
        std::printf("%-26s %10.2f\n", b.name, medians[i]);
      } else {
        std::printf("%-26s %10.2f   (%.2fx %s)\n", b.name, medians[i],
                    medians[i] / medians[b.ratio_to], b.ratio_to == kRaw ? "raw" : "FsTls");
      }
    }
    const double spawn_ns = median(spawn_rounds);
    std::printf("%-26s %10.2f\n", "BM_SpawnLocal", spawn_ns);
    return medians[kRefFs] > 0 && spawn_ns > 0;
  });
  if (!results || !*results) return 1;
  return 0;
}
