// ebb-hello: the smallest Ebb program.
//
// A MulticoreEbb counter: each core gets its own rep the first time it uses
// the Ebb, and increments it from a stream of events with no atomics and no
// sharing. The root then enumerates the reps, sums them, and checks the sum.

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "apps/common/flags.h"
#include "runtime/runtime.h"
#include "runtime/multicore_ebb.h"
#include "runtime/stats.h"
#include "runtime/static_ids.h"

namespace {

class Counter;

class CounterRoot : public ebb::MulticoreRoot<Counter> {
 public:
  uint64_t total() const;
};

class Counter : public ebb::MulticoreEbb<Counter, CounterRoot> {
 public:
  // Only this core writes its rep; the root reads it (hence the atomic, with
  // plain loads and stores: no locked instruction).
  void increment() { count_.store(count_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed); }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> count_{0};
};

uint64_t CounterRoot::total() const {
  uint64_t sum = 0;
  for_each_rep([&sum](ebb::CoreId, Counter& rep) { sum += rep.count(); });
  return sum;
}

// A static id: the Ebb is built on first use, on whichever core comes first.
constexpr ebb::Ref<Counter> kCounter(ebb::ids::kHelloCounterId);

void usage(FILE* out) {
  std::fprintf(out,
               "usage: ebb-hello [--cores N] [--events N]\n"
               "  --cores N   cores to run (default: every CPU this process may use)\n"
               "  --events N  increments per core, one event each (default 1000000)\n");
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t cores = ebb::Runtime::available_cpus();
  uint64_t events = 1'000'000;
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    if (std::strcmp(arg, "--help") == 0 || std::strcmp(arg, "-h") == 0) {
      usage(stdout);
      return 0;
    } else if (std::strcmp(arg, "--cores") == 0) {
      if (!ebb::apps::parse_number("ebb-hello", arg, i + 1 < argc ? argv[++i] : nullptr, 1,
                                    ebb::kMaxCores, &cores))
        return 2;
    } else if (std::strcmp(arg, "--events") == 0) {
      if (!ebb::apps::parse_number("ebb-hello", arg, i + 1 < argc ? argv[++i] : nullptr, 1,
                                    1'000'000'000, &events))
        return 2;
    } else {
      std::fprintf(stderr, "ebb-hello: unknown argument '%s'\n", arg);
      usage(stderr);
      return 2;
    }
  }

  std::printf("ebb-hello: %" PRIu64 " cores, %" PRIu64 " events per core\n", cores, events);
  ebb::Runtime runtime({.cores = static_cast<uint32_t>(cores)});

  const ebb::Result<bool> correct = runtime.run_on(0, [events]() -> ebb::Result<bool> {
    const uint64_t start_ns = ebb::platform::now_ns();
    // On every core: queue `events` events that each bump this core's rep,
    // then one more that reports back (events on a core run in order).
    auto streams = ebb::submit_to_all([events] {
      for (uint64_t i = 0; i < events; ++i) ebb::spawn_local([] { kCounter->increment(); });
      ebb::Promise<void> finished;
      ebb::Future<void> done = finished.get_future();
      ebb::spawn_local([finished = std::move(finished)]() mutable { finished.set_value(); });
      return done;
    });
    ebb::Result<std::vector<ebb::Status>> results = streams.block();
    if (!results) return results.error();
    const double seconds = static_cast<double>(ebb::platform::now_ns() - start_ns) / 1e9;

    ebb::Result<CounterRoot*> root = Counter::RootOf(ebb::ids::kHelloCounterId);
    if (!root) return root.error();
    std::printf("%6s %14s %14s\n", "core", "count", "events run");
    (*root)->for_each_rep([](ebb::CoreId core, Counter& rep) {
      std::printf("%6u %14" PRIu64 " %14" PRIu64 "\n", core, rep.count(),
                  ebb::core_stats(core).events);
    });
    const uint64_t total = (*root)->total();
    const uint64_t expected = events * ebb::num_cores();
    std::printf("%6s %14" PRIu64 "   (expected %" PRIu64 ", %zu reps, %.1f M events/s)\n", "total",
                total, expected, (*root)->rep_count(), static_cast<double>(total) / seconds / 1e6);
    return total == expected && (*root)->rep_count() == ebb::num_cores();
  });

  if (!correct) {
    char text[ebb::kErrorTextSize];
    std::fprintf(stderr, "ebb-hello: %s\n", correct.error().describe(text, sizeof text));
    return 1;
  }
  std::printf("ebb-hello: %s\n", *correct ? "sum checks out" : "SUM IS WRONG");
  return *correct ? 0 : 1;
}
