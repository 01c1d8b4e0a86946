// ebb-memcached's store: the two designs issue 5 asked to measure, side by
// side, at 1 and 2 cores, on the same work: 2^18 requests (30 gets : 1 set,
// uniform keys out of 100,000, 32-byte values) split evenly over the cores,
// each core running 32 request streams (as a server core runs connections).
//
//   BM_Shared/cores:N       one table for all cores: gets read it without
//                           locks (RCU), sets lock one shard of 256.
//   BM_Partitioned/cores:N  a table per core, keys split by hash; a request
//                           for another core's key travels there (an event
//                           on that core) and its stream waits for the answer.
//
// Items per second: higher is better. docs/ARCHITECTURE.md explains the
// choice these numbers made.

#include <benchmark/benchmark.h>

#include <array>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "apps/memcached/store/table.h"
#include "runtime/fiber.h"
#include "runtime/runtime.h"
#include "runtime/submit.h"

namespace {

using ebb::memcached::Item;
using ebb::memcached::ItemTable;
using ebb::memcached::StoreStatus;
using ebb::memcached::TableOptions;

constexpr int kKeys = 100'000;
constexpr int kRequests = 1 << 18;
constexpr int kStreamsPerCore = 32;
constexpr std::size_t kValueBytes = 32;
constexpr ebb::memcached::ServerTime kNow = 10;

ebb::Runtime* g_runtime = nullptr;
std::vector<std::string>* g_keys = nullptr;

// The tables: [0] is the shared one; [1 + c] is core c's partition of a
// 2-way split, [3] the whole key space for a 1-way split.
std::array<std::unique_ptr<ItemTable>, 4> g_tables;

bool set(ItemTable& table, const std::string& key, char fill) {
  Item* item = table.allocate(key, 0, 0, kValueBytes);
  if (item == nullptr) return false;
  std::memset(item->value(), fill, kValueBytes);
  return table.store(item, {}, kNow) == StoreStatus::kStored;
}

// A get as a server does it: look up, copy the value out, note the read.
std::size_t get(ItemTable& table, const std::string& key, char* out) {
  const Item* item = table.find(key, kNow);
  if (item == nullptr) return 0;
  std::memcpy(out, item->value(), item->value_length);
  ItemTable::note_read(item, kNow);
  return item->value_length;
}

// Request i of a stream: its key and whether it is a set (1 in 31).
struct Request {
  const std::string* key;
  bool is_set;
};
Request request(uint64_t stream, uint64_t i) {
  uint64_t x = (stream * 0x9E3779B97F4A7C15ull) ^ (i * 0xD6E8FEB86659FD93ull);
  x ^= x >> 31;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 29;
  return {&(*g_keys)[x % kKeys], x % 31 == 0};
}

void prepare() {
  if (g_keys != nullptr) return;
  g_keys = new std::vector<std::string>();
  for (int i = 0; i < kKeys; ++i) g_keys->push_back("key:" + std::to_string(i));
  (void)g_runtime->run_on(0, [] {
    TableOptions options;
    options.memory_limit = std::size_t{64} << 20;  // memcached's default -m
    for (auto& table : g_tables) table = std::make_unique<ItemTable>(options);
    for (const std::string& key : *g_keys) {
      const uint32_t hash = ebb::memcached::hash_key(key);
      (void)set(*g_tables[0], key, 'v');
      (void)set(*g_tables[1 + (hash & 1)], key, 'v');
      (void)set(*g_tables[3], key, 'v');
    }
  });
}

// Runs the same streams on `cores` cores; `serve` handles one request on
// the calling core.
template <class Serve>
void run_streams(benchmark::State& state, uint32_t cores, Serve serve) {
  prepare();
  const int per_stream = kRequests / static_cast<int>(cores) / kStreamsPerCore;
  for (auto _ : state) {
    auto ran = g_runtime->run_on(0, [&] {
      std::vector<ebb::Future<void>> streams;
      for (ebb::CoreId core = 0; core < cores; ++core) {
        for (int s = 0; s < kStreamsPerCore; ++s) {
          const uint64_t stream = core * kStreamsPerCore + static_cast<uint64_t>(s);
          streams.push_back(ebb::submit_to(core, [stream, per_stream, &serve] {
            char value[kValueBytes];
            for (int i = 0; i < per_stream; ++i) serve(request(stream, static_cast<uint64_t>(i)), value);
            benchmark::DoNotOptimize(value);
          }));
        }
      }
      return ebb::when_all(std::move(streams));
    });
    if (!ran.ok()) state.SkipWithError("a stream failed");
  }
  state.SetItemsProcessed(state.iterations() * kRequests);
}

void BM_Shared(benchmark::State& state) {
  run_streams(state, static_cast<uint32_t>(state.range(0)), [](Request r, char* value) {
    ItemTable& table = *g_tables[0];
    if (r.is_set) (void)set(table, *r.key, 'w');
    else benchmark::DoNotOptimize(get(table, *r.key, value));
  });
}

void BM_Partitioned(benchmark::State& state) {
  const auto cores = static_cast<uint32_t>(state.range(0));
  run_streams(state, cores, [cores](Request r, char* value) {
    const uint32_t owner = cores == 1 ? 0 : ebb::memcached::hash_key(*r.key) & 1;
    ItemTable& table = cores == 1 ? *g_tables[3] : *g_tables[1 + owner];
    auto serve_here = [&table, r, value] {
      if (r.is_set) (void)set(table, *r.key, 'w');
      else benchmark::DoNotOptimize(get(table, *r.key, value));
    };
    if (owner == ebb::this_core()) {
      serve_here();
    } else {
      // The value comes back the way a server would need it: copied into
      // the requesting core's buffer by the owner.
      (void)ebb::submit_to(owner, serve_here).block();
    }
  });
}

BENCHMARK(BM_Shared)->ArgName("cores")->Arg(1)->Arg(2)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Partitioned)
    ->ArgName("cores")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  ebb::Runtime runtime({.cores = 2});
  g_runtime = &runtime;
  benchmark::RunSpecifiedBenchmarks();
  (void)runtime.run_on(0, [] {
    for (auto& table : g_tables) table.reset();
  });
  benchmark::Shutdown();
  return 0;
}
