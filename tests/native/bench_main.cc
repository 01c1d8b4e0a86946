// ebb-bench-runtime.elf: the runtime's hot paths timed inside the image
// with the TSC, beside their hand-written equivalents (the in-image twin of
// tests/bench/runtime_bench.cc, whose harness, Google Benchmark, needs
// Linux). Each line: the median over 5 rounds of ns per operation.
//
//   BM_RawPointerCall   a non-inlined method through a global pointer
//   BM_RefCall          the same method through a Ref (the translation table)
//   BM_SpawnLocal       queueing an event on this core (and running it)

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "runtime/platform.h"
#include "runtime/runtime.h"
#include "runtime/shared_ebb.h"
#include "runtime/spawn.h"
#include "runtime/fiber.h"
#include "runtime/static_ids.h"

namespace {

class Widget : public ebb::SharedEbb<Widget> {
 public:
  [[gnu::noinline]] void bump() { count_ = count_ + 1; }

 private:
  volatile uint64_t count_ = 0;
};

Widget* g_raw = nullptr;
constexpr ebb::Ref<Widget> kWidget(ebb::ids::kBenchRefId);
constexpr int kRounds = 5;

// The median over kRounds of body(n)'s ns per iteration.
template <class F>
double median_ns(uint64_t n, F body) {
  double rounds[kRounds];
  for (double& r : rounds) {
    const uint64_t start = ebb::platform::now_ns();
    body(n);
    r = static_cast<double>(ebb::platform::now_ns() - start) / static_cast<double>(n);
  }
  std::sort(rounds, rounds + kRounds);
  return rounds[kRounds / 2];
}

}  // namespace

int main() {
  ebb::Runtime runtime({.cores = 1});
  auto results = runtime.run_on(0, [] {
    Widget raw;
    g_raw = &raw;
    kWidget->bump();  // the first use builds the rep; the loop measures cached calls
    const double raw_ns = median_ns(2'000'000, [](uint64_t n) {
      for (uint64_t i = 0; i < n; ++i) g_raw->bump();
    });
    const double ref_ns = median_ns(2'000'000, [](uint64_t n) {
      for (uint64_t i = 0; i < n; ++i) kWidget->bump();
    });
    const double spawn_ns = median_ns(1'000'000, [](uint64_t n) {
      for (uint64_t i = 0; i < n; ++i) {
        ebb::spawn_local([] {});
        if ((i & 255) == 255) ebb::yield();  // let the loop run what is queued
      }
      ebb::yield();
    });
    std::printf("%-20s %10s\n", "benchmark (median)", "ns/op");
    std::printf("%-20s %10.2f\n", "BM_RawPointerCall", raw_ns);
    std::printf("%-20s %10.2f   (%.2fx raw)\n", "BM_RefCall", ref_ns, ref_ns / raw_ns);
    std::printf("%-20s %10.2f\n", "BM_SpawnLocal", spawn_ns);
    return ref_ns > 0 && spawn_ns > 0;
  });
  if (!results || !*results) return 1;
  return 0;
}
