#pragma once
// Every static EbbId in the tree, in one place, with explicit numbers.
// The compiler checks that no number is used twice (ranges included) and
// that all fit below kStaticIdLimit. Add new ids here; never renumber a
// released one.

#include <cstdint>

#include "runtime/ebb_id.h"

// X(name, number, what it is)
#define EBB_STATIC_IDS(X)                                                    \
  X(kHelloCounterId, 1, "apps/hello: the per-core counter")                  \
  X(kPageAllocatorId, 2, "ebbs/memory: the page allocator (a rep per node)") \
  X(kGeneralAllocatorId, 3, "ebbs/memory: the general-purpose allocator")      \
  /* 400-499: reserved for tests and benchmarks */                           \
  X(kTestSharedId, 400, "tests: a SharedEbb built on first use")             \
  X(kTestMulticoreId, 401, "tests: a MulticoreEbb built on first use")       \
  X(kTestBlockingRootId, 402, "tests: an Ebb whose root blocks while built")  \
  X(kTestNoDefaultId, 403, "tests: an Ebb that cannot be built on a fault")  \
  X(kBenchRefId, 450, "benchmarks: BM_RefCall's Ebb")                        \
  X(kBenchFaultId, 451, "benchmarks: BM_RefFirstUse's Ebb")

// R(name, first number, count, what they are): a block of consecutive ids.
#define EBB_STATIC_ID_RANGES(R) \
  R(kSizeClassIds, 16, 64, "ebbs/memory: a slab Ebb per size class of the general allocator")

namespace ebb::ids {

#define EBB_DECLARE_STATIC_ID(name, number, what) inline constexpr EbbId name = number;
EBB_STATIC_IDS(EBB_DECLARE_STATIC_ID)
#undef EBB_DECLARE_STATIC_ID

#define EBB_DECLARE_STATIC_ID_RANGE(name, first, count, what) \
  inline constexpr EbbId name = first;                        \
  inline constexpr uint32_t name##Count = count;
EBB_STATIC_ID_RANGES(EBB_DECLARE_STATIC_ID_RANGE)
#undef EBB_DECLARE_STATIC_ID_RANGE

namespace detail {
#define EBB_LIST_STATIC_ID(name, number, what) number,
inline constexpr EbbId kAllStaticIds[] = {EBB_STATIC_IDS(EBB_LIST_STATIC_ID)};
#undef EBB_LIST_STATIC_ID

struct IdRange {
  EbbId first;
  uint32_t count;
};
#define EBB_LIST_STATIC_ID_RANGE(name, first, count, what) IdRange{first, count},
inline constexpr IdRange kAllStaticIdRanges[] = {EBB_STATIC_ID_RANGES(EBB_LIST_STATIC_ID_RANGE)};
#undef EBB_LIST_STATIC_ID_RANGE

// How many ranges claim `id`, plus 1 for each single id equal to it.
constexpr int claims(EbbId id) {
  int n = 0;
  for (EbbId single : kAllStaticIds) n += single == id;
  for (IdRange r : kAllStaticIdRanges) n += id >= r.first && id - r.first < r.count;
  return n;
}

// The first number that is out of range or claimed twice, or 0 when all is
// well (the null id 0 is reported as ~0).
constexpr EbbId first_bad_static_id() {
  auto bad = [](EbbId id) { return !is_static_id(id) || claims(id) != 1; };
  for (EbbId id : kAllStaticIds)
    if (bad(id)) return id == 0 ? ~0u : id;
  for (IdRange r : kAllStaticIdRanges)
    for (uint32_t i = 0; i < r.count; ++i)
      if (bad(r.first + i)) return r.first + i == 0 ? ~0u : r.first + i;
  return 0;
}

// On failure the compiler names the offending number as the template argument.
template <EbbId kBadId>
struct StaticIdCheck {
  static_assert(kBadId == 0,
                "runtime/static_ids.h: this static id is declared twice or is not in "
                "[1, kStaticIdLimit)");
};
template struct StaticIdCheck<first_bad_static_id()>;
}  // namespace detail

}  // namespace ebb::ids
