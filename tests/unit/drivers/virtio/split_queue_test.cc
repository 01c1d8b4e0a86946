// drivers/virtio's split virtqueue against a device played by the test
// (fake_device.h), one step at a time: chains round-trip, the indexes wrap
// past 65536, notification and interrupt suppression (flags, and
// EVENT_IDX) hold, and a hostile device's used entries are counted and
// skipped while the queue keeps working.

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "drivers/virtio/split_queue.h"
#include "tests/unit/drivers/virtio/fake_device.h"

namespace ebb::virtio {
namespace {

using namespace fake;

void* cookie(uintptr_t n) { return reinterpret_cast<void*>(n); }

class SplitQueueTest : public ::testing::Test {
 protected:
  void make(uint32_t size, bool event_idx) {
    memory_.assign(SplitQueue::bytes_needed(size) / 8 + 16, 0);
    auto at = reinterpret_cast<uintptr_t>(memory_.data());
    block_ = reinterpret_cast<uint8_t*>((at + 63) & ~uintptr_t{63});
    ASSERT_TRUE(q_.init(block_, kDeviceBase, size, event_idx).ok());
    device_.attach(block_, q_);
  }

  // Every descriptor, one chain each, to the device and back: the free list
  // still holds them all, each once.
  void expect_round_trips() {
    const uint32_t size = q_.size();
    ASSERT_EQ(q_.free_descriptors(), size);
    const uint64_t completions = q_.stats().completions;
    for (uint32_t i = 0; i < size; ++i) {
      const Buffer b{0x1000u * i, 64};
      ASSERT_TRUE(q_.add({}, {&b, 1}, cookie(1000 + i)).ok());
    }
    const Buffer one{0x1000, 1};
    EXPECT_EQ(q_.add({&one, 1}, {}, nullptr).error().code(), Errc::kExhausted);
    q_.publish();
    std::vector<bool> seen(size, false);
    for (uint32_t i = 0; i < size; ++i) {
      std::optional<Chain> c = device_.pop();
      ASSERT_TRUE(c.has_value());
      ASSERT_LT(uint32_t{c->head}, size);
      EXPECT_FALSE(seen[c->head]) << "head " << c->head << " handed out twice";
      seen[c->head] = true;
      device_.complete(c->head, 10);
    }
    for (uint32_t i = 0; i < size; ++i) {
      std::optional<Completion> done = q_.take();
      ASSERT_TRUE(done.has_value());
      EXPECT_EQ(done->written, 10u);
    }
    EXPECT_FALSE(q_.take().has_value());
    EXPECT_EQ(q_.free_descriptors(), size);
    EXPECT_EQ(q_.stats().completions, completions + size);
  }

  std::vector<uint64_t> memory_;
  uint8_t* block_ = nullptr;
  SplitQueue q_;
  FakeDevice device_;
};

TEST_F(SplitQueueTest, LaysOutTheRingsAsTheSpecAligns) {
  EXPECT_EQ(SplitQueue::bytes_needed(0), 0u);
  EXPECT_EQ(SplitQueue::bytes_needed(3), 0u);
  EXPECT_EQ(SplitQueue::bytes_needed(65536), 0u);
  EXPECT_GT(SplitQueue::bytes_needed(32768), 0u);
  for (uint32_t size : {1u, 2u, 256u, 32768u}) {
    make(size, false);
    EXPECT_EQ(q_.desc_address(), kDeviceBase);
    EXPECT_EQ(q_.desc_address() % 16, 0u);
    EXPECT_EQ(q_.driver_address() - q_.desc_address(), 16u * size);
    EXPECT_EQ(q_.device_address() % 4, 0u);
    EXPECT_GE(q_.device_address(), q_.driver_address() + 6 + 2u * size);
    EXPECT_EQ(q_.device_address() + 6 + 8u * size - q_.desc_address(), SplitQueue::bytes_needed(size));
    EXPECT_EQ(q_.free_descriptors(), size);
  }
  SplitQueue q;
  alignas(16) static uint8_t block[4096];
  EXPECT_EQ(q.init(block, kDeviceBase, 12, false).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(q.init(block + 8, kDeviceBase, 8, false).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(q.init(block, kDeviceBase + 4, 8, false).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(q.init(nullptr, kDeviceBase, 8, false).error().code(), Errc::kInvalidArgument);
  EXPECT_TRUE(q.init(block, kDeviceBase, 8, false).ok());
}

TEST_F(SplitQueueTest, ChainsOfOneToSizeBuffersRoundTrip) {
  constexpr uint32_t kSize = 16;
  make(kSize, false);
  for (uint32_t n = 1; n <= kSize; ++n) {
    std::vector<Buffer> readable, writable;
    uint32_t writable_bytes = 0;
    for (uint32_t k = 0; k < n; ++k) {
      const Buffer b{0x10000u * n + 0x100u * k, 10 + k};
      if (k < n / 2) {
        readable.push_back(b);
      } else {
        writable.push_back(b);
        writable_bytes += b.length;
      }
    }
    ASSERT_TRUE(q_.add(readable, writable, cookie(n)).ok());
    EXPECT_EQ(q_.free_descriptors(), kSize - n);
    EXPECT_FALSE(device_.pop().has_value()) << "seen before it was published";
    q_.publish();
    std::optional<Chain> c = device_.pop();
    ASSERT_TRUE(c.has_value());
    ASSERT_EQ(c->readable.size(), readable.size());
    ASSERT_EQ(c->writable.size(), writable.size());
    for (std::size_t k = 0; k < readable.size(); ++k) {
      EXPECT_EQ(c->readable[k].address, readable[k].address);
      EXPECT_EQ(c->readable[k].length, readable[k].length);
    }
    for (std::size_t k = 0; k < writable.size(); ++k) {
      EXPECT_EQ(c->writable[k].address, writable[k].address);
      EXPECT_EQ(c->writable[k].length, writable[k].length);
    }
    EXPECT_FALSE(q_.take().has_value());
    device_.complete(c->head, writable_bytes);
    std::optional<Completion> done = q_.take();
    ASSERT_TRUE(done.has_value());
    EXPECT_EQ(done->cookie, cookie(n));
    EXPECT_EQ(done->written, writable_bytes);
    EXPECT_EQ(q_.free_descriptors(), kSize);
  }
  EXPECT_EQ(q_.stats().completions, uint64_t{kSize});
  EXPECT_EQ(q_.stats().bad_used_entries + q_.stats().bad_used_lengths, 0u);
}

TEST_F(SplitQueueTest, CompletionsComeInTheDevicesOrder) {
  make(8, false);
  const Buffer b{0x1000, 100};
  for (uintptr_t n = 1; n <= 4; ++n) ASSERT_TRUE(q_.add({}, {&b, 1}, cookie(n)).ok());
  q_.publish();
  std::vector<uint16_t> heads;
  while (std::optional<Chain> c = device_.pop()) heads.push_back(c->head);
  ASSERT_EQ(heads.size(), 4u);
  for (std::size_t k = heads.size(); k-- > 0;) device_.write_used(heads[k], static_cast<uint32_t>(k));
  device_.publish_used();
  for (uintptr_t n = 4; n >= 1; --n) {
    std::optional<Completion> done = q_.take();
    ASSERT_TRUE(done.has_value());
    EXPECT_EQ(done->cookie, cookie(n));
    EXPECT_EQ(done->written, static_cast<uint32_t>(n - 1));
  }
  EXPECT_EQ(q_.free_descriptors(), 8u);
}

// Chains of 1..3 buffers until the queue is full, completed in reverse, for
// three wraps of the 16-bit indexes; the device asks to hear of each new
// chain (avail_event at its next entry), so every publish notifies.
void wraps_around(SplitQueue& q, FakeDevice& device) {
  const uint32_t size = q.size();
  uintptr_t serial = 1;
  uint64_t rounds = 0;
  while (q.stats().completions < 3 * 65536) {
    std::vector<void*> added;
    for (uint32_t len = 1 + rounds % 3;; len = len % 3 + 1) {
      Buffer bufs[3] = {{0x100, 1}, {0x200, 2}, {0x300, 3}};
      if (!q.add({bufs, 1}, {bufs + 1, len - 1}, cookie(serial)).ok()) break;
      added.push_back(cookie(serial++));
    }
    ASSERT_FALSE(added.empty());
    ASSERT_TRUE(q.publish());
    std::vector<Chain> chains;
    while (std::optional<Chain> c = device.pop()) chains.push_back(*c);
    device.set_avail_event(device.last_avail());
    ASSERT_EQ(chains.size(), added.size());
    for (std::size_t k = chains.size(); k-- > 0;) {
      uint32_t written = 0;
      for (const Buffer& b : chains[k].writable) written += b.length;
      device.write_used(chains[k].head, written);
    }
    device.publish_used();
    for (std::size_t k = added.size(); k-- > 0;) {
      std::optional<Completion> done = q.take();
      ASSERT_TRUE(done.has_value());
      ASSERT_EQ(done->cookie, added[k]);
    }
    ASSERT_FALSE(q.take().has_value());
    ASSERT_EQ(q.free_descriptors(), size);
    ++rounds;
  }
  EXPECT_EQ(q.stats().bad_used_entries + q.stats().bad_used_lengths + q.stats().bad_used_indexes, 0u);
  EXPECT_EQ(q.stats().notifications, rounds);
}

TEST_F(SplitQueueTest, WrapsAroundPastTheIndexOverflow) {
  make(8, false);
  wraps_around(q_, device_);
  expect_round_trips();
}

TEST_F(SplitQueueTest, WrapsAroundPastTheIndexOverflowWithEventIdx) {
  make(8, true);
  wraps_around(q_, device_);
  expect_round_trips();
}

TEST_F(SplitQueueTest, RunningOutOfDescriptorsIsAnError) {
  make(4, false);
  const Buffer b[5] = {{0x1000, 1}, {0x2000, 2}, {0x3000, 3}, {0x4000, 4}, {0x5000, 5}};
  EXPECT_EQ(q_.add({b, 5}, {}, cookie(1)).error().code(), Errc::kExhausted);
  EXPECT_EQ(q_.add({}, {}, cookie(1)).error().code(), Errc::kInvalidArgument);
  ASSERT_TRUE(q_.add({b, 1}, {b + 1, 2}, cookie(1)).ok());
  EXPECT_EQ(q_.add({b, 2}, {}, cookie(2)).error().code(), Errc::kExhausted);
  EXPECT_EQ(q_.free_descriptors(), 1u);
  ASSERT_TRUE(q_.add({}, {b, 1}, cookie(3)).ok());
  EXPECT_EQ(q_.add({}, {b, 1}, cookie(4)).error().code(), Errc::kExhausted);
  EXPECT_EQ(q_.free_descriptors(), 0u);
  q_.publish();
  while (std::optional<Chain> c = device_.pop()) device_.complete(c->head, 0);
  int taken = 0;
  while (q_.take()) ++taken;
  EXPECT_EQ(taken, 2);
  ASSERT_TRUE(q_.add({b, 2}, {b + 2, 2}, cookie(5)).ok());
  EXPECT_EQ(q_.free_descriptors(), 0u);
}

TEST_F(SplitQueueTest, NotifiesUnlessTheDeviceSetsNoNotify) {
  make(8, false);
  const Buffer b{0x1000, 1};
  EXPECT_FALSE(q_.publish()) << "nothing new to tell";
  ASSERT_TRUE(q_.add({&b, 1}, {}, nullptr).ok());
  EXPECT_TRUE(q_.publish());
  device_.set_no_notify(true);
  ASSERT_TRUE(q_.add({&b, 1}, {}, nullptr).ok());
  EXPECT_FALSE(q_.publish());
  device_.set_avail_event(100);  // no meaning without EVENT_IDX
  device_.set_no_notify(false);
  ASSERT_TRUE(q_.add({&b, 1}, {}, nullptr).ok());
  EXPECT_TRUE(q_.publish());
  EXPECT_EQ(q_.stats().notifications, 2u);
  EXPECT_EQ(q_.stats().notifications_suppressed, 1u);
}

TEST_F(SplitQueueTest, NotifiesWhenTheAvailIdxPassesAvailEvent) {
  make(16, true);
  const Buffer b{0x1000, 1};
  auto add = [&](int n) {
    for (int i = 0; i < n; ++i) ASSERT_TRUE(q_.add({&b, 1}, {}, nullptr).ok());
  };
  add(1);
  EXPECT_TRUE(q_.publish()) << "avail_event 0: the first chain is wanted";
  device_.set_avail_event(5);  // tell me when entry 5 is made available
  add(2);
  EXPECT_FALSE(q_.publish());  // idx 1 -> 3
  add(2);
  EXPECT_FALSE(q_.publish());  // 3 -> 5
  add(1);
  EXPECT_TRUE(q_.publish());  // 5 -> 6 passes entry 5
  add(1);
  EXPECT_FALSE(q_.publish());  // 6 -> 7: the device has not asked again
  device_.set_no_notify(true);  // flags mean nothing with EVENT_IDX
  device_.set_avail_event(7);
  add(1);
  EXPECT_TRUE(q_.publish());
  EXPECT_EQ(device_.avail_flags(), 0);
  EXPECT_EQ(q_.stats().notifications, 3u);
  EXPECT_EQ(q_.stats().notifications_suppressed, 3u);
}

TEST_F(SplitQueueTest, InterruptFlagAndTheRecheckRace) {
  make(8, false);
  const Buffer b{0x1000, 1};
  auto add_and_pop = [&]() -> uint16_t {
    EXPECT_TRUE(q_.add({}, {&b, 1}, nullptr).ok());
    q_.publish();
    return device_.pop()->head;
  };
  EXPECT_TRUE(device_.complete(add_and_pop(), 1)) << "interrupts start on";
  EXPECT_TRUE(q_.take().has_value());
  q_.disable_interrupts();
  EXPECT_EQ(device_.avail_flags(), kAvailNoInterrupt);
  EXPECT_FALSE(device_.complete(add_and_pop(), 1));
  EXPECT_TRUE(q_.take().has_value());
  EXPECT_FALSE(q_.enable_interrupts()) << "nothing waiting";
  EXPECT_EQ(device_.avail_flags(), 0);
  // The race: a completion lands while interrupts are off, just before the
  // driver turns them on; it raised none, so enabling must say it waits.
  q_.disable_interrupts();
  EXPECT_FALSE(device_.complete(add_and_pop(), 1));
  EXPECT_TRUE(q_.enable_interrupts());
  EXPECT_TRUE(q_.pending());
  EXPECT_TRUE(q_.take().has_value());
  EXPECT_FALSE(q_.pending());
  EXPECT_TRUE(device_.complete(add_and_pop(), 1));
  EXPECT_TRUE(q_.take().has_value());
}

TEST_F(SplitQueueTest, UsedEventAndTheRecheckRaceWithEventIdx) {
  make(8, true);
  const Buffer b{0x1000, 1};
  auto add_and_pop = [&]() -> uint16_t {
    EXPECT_TRUE(q_.add({}, {&b, 1}, nullptr).ok());
    q_.publish();
    return device_.pop()->head;
  };
  EXPECT_TRUE(device_.complete(add_and_pop(), 1)) << "used_event 0: the first completion interrupts";
  EXPECT_TRUE(q_.take().has_value());
  EXPECT_EQ(device_.used_event(), 1);
  EXPECT_TRUE(device_.complete(add_and_pop(), 1));
  EXPECT_FALSE(device_.complete(add_and_pop(), 1)) << "the driver has not read the last one yet";
  EXPECT_TRUE(q_.take().has_value());
  EXPECT_TRUE(q_.take().has_value());
  q_.disable_interrupts();
  EXPECT_EQ(device_.avail_flags(), 0) << "flags stay 0 with EVENT_IDX";
  EXPECT_FALSE(device_.complete(add_and_pop(), 1));
  EXPECT_TRUE(q_.enable_interrupts()) << "a completion came while they were off";
  EXPECT_TRUE(q_.take().has_value());
  EXPECT_FALSE(q_.enable_interrupts());
  EXPECT_TRUE(device_.complete(add_and_pop(), 1));
  EXPECT_TRUE(q_.take().has_value());
}

// A driver that polls with interrupts off gets none, even as the used idx
// wraps: used_event follows a whole wrap behind it.
TEST_F(SplitQueueTest, PollingRaisesNoInterruptsAcrossTheWrap) {
  for (bool event_idx : {false, true}) {
    make(4, event_idx);
    q_.disable_interrupts();
    const Buffer b{0x1000, 1};
    int interrupts = 0;
    for (int i = 0; i < 70000; ++i) {
      ASSERT_TRUE(q_.add({}, {&b, 1}, nullptr).ok());
      q_.publish();
      interrupts += device_.complete(device_.pop()->head, 1) ? 1 : 0;
      ASSERT_TRUE(q_.take().has_value());
    }
    EXPECT_EQ(interrupts, 0) << "event_idx " << event_idx;
  }
}

TEST_F(SplitQueueTest, UsedIdsOutOfRangeAreSkipped) {
  make(8, false);
  const Buffer b{0x1000, 64};
  ASSERT_TRUE(q_.add({}, {&b, 1}, cookie(7)).ok());
  q_.publish();
  const uint16_t head = device_.pop()->head;
  device_.write_used(8, 1);
  device_.write_used(0xffffffffu, 1);
  device_.write_used(0x10000u + head, 1);  // the head, were the id cut to 16 bits
  device_.write_used(head, 64);
  device_.publish_used();
  std::optional<Completion> done = q_.take();
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->cookie, cookie(7));
  EXPECT_EQ(q_.stats().bad_used_entries, 3u);
  EXPECT_EQ(q_.stats().completions, 1u);
  expect_round_trips();
}

TEST_F(SplitQueueTest, UsedIdsThatAreNoChainWithTheDeviceAreSkipped) {
  make(8, false);
  const Buffer b[3] = {{0x1000, 1}, {0x2000, 2}, {0x3000, 3}};
  ASSERT_TRUE(q_.add({b, 1}, {b + 1, 2}, cookie(1)).ok());
  q_.publish();
  const uint16_t head = device_.pop()->head;
  ASSERT_TRUE(q_.add({b, 1}, {}, cookie(2)).ok());  // added, not published
  device_.write_used((head + 1) % 8, 0);  // inside the chain
  device_.write_used((head + 5) % 8, 0);  // a free descriptor
  device_.write_used((head + 3) % 8, 0);  // the unpublished chain's head
  device_.write_used(head, 5);
  device_.write_used(head, 5);  // completed twice
  device_.publish_used();
  std::optional<Completion> done = q_.take();
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->cookie, cookie(1));
  EXPECT_EQ(done->written, 5u);
  EXPECT_FALSE(q_.take().has_value());
  EXPECT_EQ(q_.stats().bad_used_entries, 4u);
  EXPECT_EQ(q_.free_descriptors(), 7u);
  // The unpublished chain still goes through once published.
  q_.publish();
  std::optional<Chain> c = device_.pop();
  ASSERT_TRUE(c.has_value());
  device_.complete(c->head, 0);
  done = q_.take();
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->cookie, cookie(2));
  expect_round_trips();
  EXPECT_EQ(q_.stats().bad_used_entries, 4u);
}

TEST_F(SplitQueueTest, WrittenLengthsPastTheWritableBuffersComeBackAsZero) {
  make(8, false);
  const Buffer b[3] = {{0x1000, 10}, {0x2000, 40}, {0x3000, 60}};
  ASSERT_TRUE(q_.add({b, 1}, {b + 1, 2}, cookie(1)).ok());
  ASSERT_TRUE(q_.add({b, 3}, {}, cookie(2)).ok());
  q_.publish();
  device_.write_used(device_.pop()->head, 101);
  device_.write_used(device_.pop()->head, 1);  // a readable-only chain
  device_.publish_used();
  for (uintptr_t n = 1; n <= 2; ++n) {
    std::optional<Completion> done = q_.take();
    ASSERT_TRUE(done.has_value());
    EXPECT_EQ(done->cookie, cookie(n));
    EXPECT_EQ(done->written, 0u);
  }
  EXPECT_EQ(q_.stats().bad_used_lengths, 2u);
  expect_round_trips();
}

TEST_F(SplitQueueTest, UsedIdxJumpsAreIgnored) {
  make(8, true);
  const Buffer b{0x1000, 64};
  ASSERT_TRUE(q_.add({}, {&b, 1}, cookie(1)).ok());
  q_.publish();
  const uint16_t head = device_.pop()->head;
  for (uint16_t bad : {uint16_t{9}, uint16_t{40000}, uint16_t{0xffff}}) {
    device_.set_used_idx(bad);
    EXPECT_FALSE(q_.pending());
    EXPECT_FALSE(q_.take().has_value());
    EXPECT_FALSE(q_.enable_interrupts()) << "no reason to poll again";
  }
  EXPECT_EQ(q_.stats().bad_used_indexes, 3u);
  device_.set_used_idx(0);
  device_.complete(head, 64);
  std::optional<Completion> done = q_.take();
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->cookie, cookie(1));
  expect_round_trips();
}

// A full ring of made-up entries: one take() reads at most size of them.
TEST_F(SplitQueueTest, ARingOfMadeUpEntriesIsReadOnce) {
  make(8, false);
  for (uint32_t i = 0; i < 8; ++i) device_.write_used(i, 0);
  device_.publish_used();
  EXPECT_FALSE(q_.take().has_value());
  EXPECT_EQ(q_.stats().bad_used_entries, 8u);
  EXPECT_FALSE(q_.pending());
  expect_round_trips();
}

// The driver never reads its descriptors back: a device that rewrites them
// (links into a loop, other lengths) changes nothing the driver frees.
TEST_F(SplitQueueTest, RewrittenDescriptorsDoNotReachTheFreeList) {
  make(8, false);
  const Buffer b[4] = {{0x1000, 1}, {0x2000, 2}, {0x3000, 3}, {0x4000, 4}};
  ASSERT_TRUE(q_.add({b, 2}, {b + 2, 2}, cookie(1)).ok());
  q_.publish();
  const uint16_t head = device_.pop()->head;
  for (uint16_t i = 0; i < 8; ++i) {
    Descriptor* d = device_.descriptor(i);
    d->next = head;
    d->flags = kDescNext | kDescWrite;
    d->length = 0xffffffffu;
  }
  device_.complete(head, 7);
  std::optional<Completion> done = q_.take();
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->written, 7u);
  expect_round_trips();
}

}  // namespace
}  // namespace ebb::virtio
