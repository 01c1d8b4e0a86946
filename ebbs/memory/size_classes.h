#pragma once
// The general allocator's size classes: a compile-time list, each class
// served by a slab Ebb with a static id (ids::kSizeClassIds + class). With a
// constant size the class, and so the Ebb's id, is a constant too.

#include <array>
#include <cstddef>
#include <cstdint>

#include "runtime/static_ids.h"

namespace ebb::mem {

// Multiples of 16 (every object 16-byte aligned), about 12-25% apart.
inline constexpr uint32_t kSizeClasses[] = {
    16,   32,   48,   64,   80,   96,   112,  128,  160,  192,  224,
    256,  320,  384,  448,  512,  640,  768,  896,  1024, 1280, 1536,
    1792, 2048, 2560, 3072, 3584, 4096, 5120, 6144, 7168, 8192,
};
inline constexpr uint32_t kClassCount = sizeof(kSizeClasses) / sizeof(kSizeClasses[0]);
inline constexpr std::size_t kMaxSmallSize = kSizeClasses[kClassCount - 1];
static_assert(kClassCount <= ids::kSizeClassIdsCount,
              "runtime/static_ids.h reserves too few ids for the size classes");

namespace detail {
// The class of each size, by 16-byte unit: one load to classify.
constexpr std::array<uint8_t, kMaxSmallSize / 16 + 1> make_class_table() {
  std::array<uint8_t, kMaxSmallSize / 16 + 1> table{};
  uint8_t c = 0;
  for (std::size_t unit = 0; unit < table.size(); ++unit) {
    while (kSizeClasses[c] < unit * 16) ++c;
    table[unit] = c;
  }
  return table;
}
inline constexpr auto kClassOfUnits = make_class_table();
}  // namespace detail

// The smallest class that holds `size` (0 < size <= kMaxSmallSize; 0 counts as 1).
constexpr uint32_t class_of(std::size_t size) { return detail::kClassOfUnits[(size + 15) >> 4]; }
constexpr uint32_t class_size(uint32_t size_class) { return kSizeClasses[size_class]; }
constexpr EbbId class_id(uint32_t size_class) { return ids::kSizeClassIds + size_class; }
constexpr bool is_class_id(EbbId id) {
  return id >= ids::kSizeClassIds && id - ids::kSizeClassIds < kClassCount;
}

static_assert(class_of(1) == 0 && class_of(16) == 0 && class_of(17) == 1);
static_assert(class_of(8192) == kClassCount - 1 && class_size(class_of(1000)) == 1024);

}  // namespace ebb::mem
