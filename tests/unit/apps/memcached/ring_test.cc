// The cluster's consistent hashing: every node agrees on owners whatever
// order it lists the members in, keys spread evenly, and a node's death
// moves its keys alone.

#include "apps/memcached/cluster/ring.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ebb::memcached {
namespace {

constexpr uint64_t kAll3 = 0b111;

std::vector<uint32_t> owners(const Ring& ring, uint64_t alive, int keys) {
  std::vector<uint32_t> out;
  for (int i = 0; i < keys; ++i) out.push_back(ring.owner(Ring::hash("key:" + std::to_string(i)), alive));
  return out;
}

TEST(Ring, TheKeyHashIsTheSameInEveryBuild) {
  // Pinned: nodes of different builds must place keys alike.
  EXPECT_EQ(Ring::hash("foo"), Ring::hash("foo"));
  EXPECT_NE(Ring::hash("foo"), Ring::hash("fop"));
  EXPECT_EQ(Ring::hash(""), 0xab3e7c0bu);  // FNV-1a, then murmur3's finaliser
  EXPECT_EQ(Ring::hash("foo"), 0x6d5a5ca4u);
  EXPECT_EQ(Ring::hash("key"), Ring::hash(std::string("key")));
}

TEST(Ring, OwnersDependOnNodeIdsNotOnTheListsOrder) {
  const Ring a({4, 9, 2});
  const Ring b({2, 4, 9});
  const std::vector<messenger::NodeId> ids_a = {4, 9, 2}, ids_b = {2, 4, 9};
  for (int i = 0; i < 2000; ++i) {
    const uint32_t h = Ring::hash("k" + std::to_string(i));
    EXPECT_EQ(ids_a[a.owner(h, kAll3)], ids_b[b.owner(h, kAll3)]);
  }
}

TEST(Ring, KeysSpreadOverTheNodes) {
  const Ring ring({0, 1, 2});
  int count[3] = {};
  for (uint32_t o : owners(ring, kAll3, 30000)) ++count[o];
  for (int n : count) {
    EXPECT_GT(n, 30000 * 22 / 100);  // a third each, give or take
    EXPECT_LT(n, 30000 * 45 / 100);
  }
}

TEST(Ring, ADeadNodesKeysAloneMoveAndSpreadOverTheSurvivors) {
  const Ring ring({0, 1, 2});
  const std::vector<uint32_t> before = owners(ring, kAll3, 20000);
  const std::vector<uint32_t> after = owners(ring, 0b101, 20000);  // node index 1 dead
  int moved_to[3] = {};
  for (std::size_t i = 0; i < before.size(); ++i) {
    EXPECT_NE(after[i], 1u);
    if (before[i] != 1) EXPECT_EQ(after[i], before[i]) << "a survivor's key moved";
    else ++moved_to[after[i]];
  }
  EXPECT_GT(moved_to[0], 1000);
  EXPECT_GT(moved_to[2], 1000);
  EXPECT_EQ(ring.owner(Ring::hash("x"), 0), Ring::kNone);
  EXPECT_EQ(ring.owner(Ring::hash("x"), 0b100), 2u);
}

}  // namespace
}  // namespace ebb::memcached
