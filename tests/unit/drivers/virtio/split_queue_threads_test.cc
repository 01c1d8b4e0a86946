// The split virtqueue with its device on another thread, as a real device
// runs beside the driver: each side sleeps (spins on a flag) when the other
// said it needs no word, so a notification or interrupt the queue wrongly
// suppresses, or a completion it misses when re-enabling interrupts, stalls
// the run and fails it at the deadline. Hosted only (std::thread).

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "drivers/virtio/split_queue.h"
#include "runtime/fence.h"
#include "tests/unit/drivers/virtio/fake_device.h"

namespace ebb::virtio {
namespace {

using namespace fake;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kChains = 200000;

// Waits for `flag` (and clears it); false past the deadline or on `stop`.
bool wait_for(std::atomic<bool>& flag, const std::atomic<bool>& stop, Clock::time_point deadline) {
  while (!flag.exchange(false, std::memory_order_acq_rel)) {
    if (stop.load(std::memory_order_relaxed) || Clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

void run(uint32_t size, bool event_idx) {
  std::vector<uint64_t> memory(SplitQueue::bytes_needed(size) / 8 + 16);
  auto* block = reinterpret_cast<uint8_t*>((reinterpret_cast<uintptr_t>(memory.data()) + 63) & ~uintptr_t{63});
  SplitQueue q;
  ASSERT_TRUE(q.init(block, kDeviceBase, size, event_idx).ok());
  FakeDevice device;
  device.attach(block, q);

  std::atomic<bool> kick{false}, interrupt{false}, stop{false};
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(60);

  // The device: no notifications while it works; asks for them again, then
  // looks once more before sleeping (the device's half of the race).
  std::thread device_thread([&] {
    while (!stop.load(std::memory_order_relaxed)) {
      if (event_idx) device.set_avail_event(static_cast<uint16_t>(device.last_avail() - 1));
      else device.set_no_notify(true);
      while (std::optional<Chain> c = device.pop()) {
        uint32_t written = 0;
        for (const Buffer& b : c->writable) written += b.length;
        if (device.complete(c->head, written)) interrupt.store(true, std::memory_order_release);
      }
      if (event_idx) device.set_avail_event(device.last_avail());
      else device.set_no_notify(false);
      ebb::full_fence();
      if (device.has_available()) continue;
      if (!wait_for(kick, stop, deadline)) return;
    }
  });

  uint64_t added = 0, taken = 0;
  uint32_t writable_bytes[3] = {0, 20, 50};
  while (taken < kChains) {
    bool progress = false;
    while (added < kChains) {
      const Buffer b[3] = {{0x1000, 10}, {0x2000, 20}, {0x3000, 30}};
      const uint32_t len = 1 + static_cast<uint32_t>(added % 3);
      if (!q.add({b, 1}, {b + 1, len - 1}, reinterpret_cast<void*>(uintptr_t{len})).ok()) break;
      ++added;
      progress = true;
    }
    if (q.publish()) kick.store(true, std::memory_order_release);
    while (std::optional<Completion> done = q.take()) {
      const auto len = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(done->cookie));
      ASSERT_EQ(done->written, writable_bytes[len - 1]);
      ++taken;
      progress = true;
    }
    if (progress) continue;
    // The driver's half: ask for an interrupt, look again, then sleep.
    if (q.enable_interrupts()) continue;
    const bool woke = wait_for(interrupt, stop, deadline);
    q.disable_interrupts();
    if (!woke) break;
  }
  stop.store(true);
  device_thread.join();
  EXPECT_EQ(taken, kChains) << "stalled: a notification or interrupt went missing";
  EXPECT_EQ(q.free_descriptors(), size);
  EXPECT_EQ(q.stats().bad_used_entries + q.stats().bad_used_lengths + q.stats().bad_used_indexes, 0u);
}

TEST(SplitQueueThreads, DeviceOnAnotherThread) { run(64, false); }
TEST(SplitQueueThreads, DeviceOnAnotherThreadWithEventIdx) { run(64, true); }
TEST(SplitQueueThreads, SmallQueueWithEventIdx) { run(4, true); }  // chains of up to 3

}  // namespace
}  // namespace ebb::virtio
