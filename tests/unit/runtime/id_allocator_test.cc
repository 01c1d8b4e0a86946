#include "runtime/id_allocator.h"

#include <gtest/gtest.h>

#include <set>

#include "runtime/static_ids.h"
#include "runtime/type_name.h"

namespace ebb {
namespace {

class IdAllocator : public ::testing::Test {
 protected:
  void SetUp() override { ids::detail::reset_local_ids(); }
  void TearDown() override { ids::detail::reset_local_ids(); }
};

TEST_F(IdAllocator, HandsOutDistinctLocalIds) {
  std::set<EbbId> seen;
  for (int i = 0; i < 5000; ++i) {
    Result<EbbId> id = ids::allocate_local();
    ASSERT_TRUE(id.ok());
    EXPECT_TRUE(is_local_id(*id));
    EXPECT_TRUE(seen.insert(*id).second);
  }
  EXPECT_EQ(ids::local_ids_in_use(), 5000u);
}

TEST_F(IdAllocator, ReusesFreedIdsOnlyAfterQuarantine) {
  const EbbId first = ids::allocate_local().value();
  ids::release_local(first);
  // While fewer than kIdQuarantine others were freed, `first` stays unused.
  std::set<EbbId> handed;
  for (std::size_t i = 0; i < ids::kIdQuarantine; ++i) {
    const EbbId id = ids::allocate_local().value();
    EXPECT_NE(id, first);
    handed.insert(id);
  }
  for (EbbId id : handed) ids::release_local(id);
  // Now the quarantine is full: the oldest freed id comes back first.
  EXPECT_EQ(ids::allocate_local().value(), first);
}

TEST_F(IdAllocator, StaysDenseUnderChurn) {
  for (int round = 0; round < 20; ++round) {
    std::vector<EbbId> batch;
    for (int i = 0; i < 500; ++i) batch.push_back(ids::allocate_local().value());
    for (EbbId id : batch) ids::release_local(id);
  }
  // 10000 allocations, never more than 500 live: ids stay near the start.
  const EbbId id = ids::allocate_local().value();
  EXPECT_LT(id, kFirstLocalId + 500 + ids::kIdQuarantine + 1);
}

TEST_F(IdAllocator, ReleasingTwiceIsAPanic) {
  const EbbId id = ids::allocate_local().value();
  ids::release_local(id);
  EXPECT_DEATH(ids::release_local(id), "released twice");
}

TEST(StaticIds, AreUniqueAndInRange) {
  std::set<EbbId> seen;
  for (EbbId id : ids::detail::kAllStaticIds) {
    EXPECT_TRUE(is_static_id(id));
    EXPECT_TRUE(seen.insert(id).second);
  }
  EXPECT_EQ(ids::detail::first_bad_static_id(), 0u);
  for (auto range : ids::detail::kAllStaticIdRanges)
    for (uint32_t i = 0; i < range.count; ++i) EXPECT_EQ(ids::detail::claims(range.first + i), 1);
}

struct SomeType {};
TEST(TypeName, NamesTypesWithoutRtti) {
  EXPECT_STREQ(type_name_cstr<int>(), "int");
  EXPECT_NE(std::string_view(type_name_cstr<SomeType>()).find("SomeType"), std::string_view::npos);
}

}  // namespace
}  // namespace ebb
