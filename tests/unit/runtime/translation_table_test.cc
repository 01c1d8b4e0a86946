#include "runtime/translation_table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace ebb::translation {
namespace {

// Each test runs the table on a thread of its own posing as core 0.
template <class F>
void as_core(F&& fn) {
  std::thread t([&] {
    detail::attach_core_table(0);
    fn();
    detail::detach_core_table(0);
  });
  t.join();
}

TEST(TranslationTable, StaticAndDynamicSlotsStartEmpty) {
  as_core([] {
    EXPECT_EQ(lookup(1), nullptr);
    EXPECT_EQ(lookup(kStaticIdLimit - 1), nullptr);
    EXPECT_EQ(lookup(kFirstLocalId), nullptr);
    EXPECT_EQ(lookup(kFirstLocalId + 123456), nullptr);
  });
}

TEST(TranslationTable, InstallLookupClear) {
  as_core([] {
    int a = 0, b = 0, c = 0;
    install(5, &a);
    install(kFirstLocalId, &b);
    install(kFirstLocalId + 100'000, &c);  // far away: the directory grows
    EXPECT_EQ(lookup(5), &a);
    EXPECT_EQ(lookup(kFirstLocalId), &b);
    EXPECT_EQ(lookup(kFirstLocalId + 100'000), &c);
    EXPECT_EQ(lookup(kFirstLocalId + 99'999), nullptr);
    clear(5);
    clear(kFirstLocalId + 100'000);
    clear(kFirstLocalId + 5'000'000);  // never installed: harmless
    EXPECT_EQ(lookup(5), nullptr);
    EXPECT_EQ(lookup(kFirstLocalId + 100'000), nullptr);
    EXPECT_EQ(lookup(kFirstLocalId), &b);
  });
}

TEST(TranslationTable, TablesArePerThread) {
  int mine = 0;
  as_core([&] {
    install(kFirstLocalId + 7, &mine);
    std::thread other([] { EXPECT_EQ(lookup(kFirstLocalId + 7), nullptr); });
    other.join();
  });
}

// Another thread peeks while the owner keeps growing its table.
TEST(TranslationTable, PeekIsSafeWhileTheOwnerGrows) {
  constexpr EbbId kCount = 200'000;
  std::vector<int> reps(kCount);
  std::atomic<EbbId> installed{0};
  std::atomic<bool> done{false};
  std::thread owner([&] {
    detail::attach_core_table(0);
    for (EbbId i = 0; i < kCount; ++i) {
      install(kFirstLocalId + i, &reps[i]);
      installed.store(i + 1, std::memory_order_release);
    }
    while (!done.load()) std::this_thread::yield();
    detail::detach_core_table(0);
  });
  uint64_t checks = 0;
  while (installed.load(std::memory_order_acquire) < kCount) {
    const EbbId n = installed.load(std::memory_order_acquire);
    if (n == 0) continue;
    const EbbId i = n - 1 - static_cast<EbbId>(checks % n);
    EXPECT_EQ(peek(0, kFirstLocalId + i), &reps[i]);
    ++checks;
  }
  EXPECT_EQ(peek(0, kFirstLocalId + kCount - 1), &reps[kCount - 1]);
  done.store(true);
  owner.join();
  EXPECT_EQ(peek(0, kFirstLocalId), nullptr);  // detached
}

}  // namespace
}  // namespace ebb::translation
