#pragma once
// Every static EbbId in the tree, in one place, with explicit numbers.
// The compiler checks that no number is used twice and that all fit below
// kStaticIdLimit. Add new ids here; never renumber a released one.

#include "runtime/ebb_id.h"

// X(name, number, what it is)
#define EBB_STATIC_IDS(X)                                                   \
  X(kHelloCounterId, 1, "apps/hello: the per-core counter")                 \
  /* 400-499: reserved for tests and benchmarks */                          \
  X(kTestSharedId, 400, "tests: a SharedEbb built on first use")            \
  X(kTestMulticoreId, 401, "tests: a MulticoreEbb built on first use")      \
  X(kTestBlockingRootId, 402, "tests: an Ebb whose root blocks while built") \
  X(kTestNoDefaultId, 403, "tests: an Ebb that cannot be built on a fault") \
  X(kBenchRefId, 450, "benchmarks: BM_RefCall's Ebb")                       \
  X(kBenchFaultId, 451, "benchmarks: BM_RefFirstUse's Ebb")

namespace ebb::ids {

#define EBB_DECLARE_STATIC_ID(name, number, what) inline constexpr EbbId name = number;
EBB_STATIC_IDS(EBB_DECLARE_STATIC_ID)
#undef EBB_DECLARE_STATIC_ID

namespace detail {
#define EBB_LIST_STATIC_ID(name, number, what) number,
inline constexpr EbbId kAllStaticIds[] = {EBB_STATIC_IDS(EBB_LIST_STATIC_ID)};
#undef EBB_LIST_STATIC_ID

// The first number that is out of range or declared twice, or 0.
constexpr EbbId first_bad_static_id() {
  constexpr auto count = sizeof(kAllStaticIds) / sizeof(kAllStaticIds[0]);
  for (unsigned i = 0; i < count; ++i) {
    // 0 is the null id: report it as ~0 so that the check below still fails.
    if (!is_static_id(kAllStaticIds[i])) return kAllStaticIds[i] == 0 ? ~0u : kAllStaticIds[i];
    for (unsigned j = i + 1; j < count; ++j)
      if (kAllStaticIds[i] == kAllStaticIds[j]) return kAllStaticIds[i];
  }
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
