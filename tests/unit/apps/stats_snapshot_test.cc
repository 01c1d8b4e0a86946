// The stats endpoint's text and the per-core lines behind it (the endpoint
// itself, over TCP from outside, is tests/integration/stats_endpoint.sh and
// native.net.stats_endpoint).
#include "apps/common/stats_endpoint.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>
#include <string>

#include "apps/common/core_stats.h"
#include "ebbs/memory/general/general_allocator.h"
#include "tests/support/runtime_fixture.h"

namespace ebb::apps {
namespace {

using ebb::testing::RuntimeFixture;

class StatsSnapshotTest : public RuntimeFixture {
 protected:
  void SetUp() override { start(2); }
};

// name -> value, checking every line's form and the END at the end.
std::map<std::string, uint64_t> parse(const std::string& text) {
  std::map<std::string, uint64_t> stats;
  EXPECT_GE(text.size(), 5u);
  EXPECT_EQ(text.substr(text.size() - 5), "END\r\n");
  std::istringstream in(text.substr(0, text.size() - 5));
  std::string line;
  while (std::getline(in, line)) {
    EXPECT_EQ(line.back(), '\r');
    std::istringstream words(line);
    std::string stat, name;
    uint64_t value = 0;
    EXPECT_TRUE(words >> stat >> name >> value) << line;
    EXPECT_EQ(stat, "STAT");
    EXPECT_TRUE(stats.emplace(name, value).second) << "twice: " << name;
  }
  return stats;
}

TEST_F(StatsSnapshotTest, EveryCoreHasItsLinesAndTheBackendsOwn) {
  std::vector<OnCoreCounts> counts(2);
  counts[0].net.has_packets = true;
  counts[0].net.packets_in = 7;
  counts[0].net.packets_out = 9;
  counts[0].net.bytes_in = 700;
  counts[1].net.has_syscalls = true;
  counts[1].net.syscalls = 12;
  counts[1].net.connections = 3;
  counts[1].malloc_bytes = 4096;
  std::string text;
  run(0, [&] { text = stats_snapshot(counts); });
  const std::map<std::string, uint64_t> s = parse(text);
  EXPECT_EQ(s.at("cores"), 2u);
  for (const char* core : {"core0:", "core1:"})
    for (const char* name : {"events", "remote_events", "remote_sent", "rep_faults", "timers_fired", "parks",
                             "busy_ns", "idle_ns", "allocations", "frees", "remote_frees_sent",
                             "remote_frees_received", "bytes_in", "bytes_out"})
      EXPECT_EQ(s.count(std::string(core) + name), 1u) << core << name;
  EXPECT_EQ(s.at("core0:packets_in"), 7u);
  EXPECT_EQ(s.at("core0:packets_out"), 9u);
  EXPECT_EQ(s.at("core0:bytes_in"), 700u);
  EXPECT_EQ(s.count("core0:syscalls"), 0u);  // only what the backend counts
  EXPECT_EQ(s.at("core1:syscalls"), 12u);
  EXPECT_EQ(s.count("core1:packets_in"), 0u);
  EXPECT_EQ(s.at("core1:connections"), 3u);
  EXPECT_EQ(s.count("core0:connections"), 0u);
  EXPECT_EQ(s.at("core1:malloc_bytes"), 4096u);  // where the C library's allocator says
  EXPECT_EQ(s.count("core0:malloc_bytes"), 0u);
  EXPECT_GT(s.at("core0:events"), 0u);  // run() itself is one
}

uint64_t value_of(const std::vector<StatLine>& lines, const std::string& name) {
  for (const StatLine& l : lines)
    if (name == l.name) return l.value;
  ADD_FAILURE() << "no line " << name;
  return 0;
}

TEST_F(StatsSnapshotTest, AllocationsAreCountedOnTheCoreThatMadeThem) {
  std::vector<StatLine> before0, before1, after0, after1;
  run(1, [&] { (void)mem::malloc(8); });  // the size class's rep exists on core 1
  before0 = core_stat_lines(0);
  before1 = core_stat_lines(1);
  void* blocks[40];
  run(1, [&] {
    for (void*& b : blocks) b = mem::malloc(48);
  });
  // Freed on core 0: remote frees, sent home to core 1.
  run(0, [&] {
    for (void* b : blocks) mem::free(b);
    Ref<mem::SlabAllocator>(mem::class_id(mem::class_of(48)))->flush_remote_frees();
  });
  after0 = core_stat_lines(0);
  after1 = core_stat_lines(1);
  EXPECT_EQ(value_of(after1, "allocations") - value_of(before1, "allocations"), 40u);
  EXPECT_EQ(value_of(after0, "allocations") - value_of(before0, "allocations"), 0u);
  EXPECT_EQ(value_of(after0, "remote_frees_sent") - value_of(before0, "remote_frees_sent"), 40u);
}

}  // namespace
}  // namespace ebb::apps
