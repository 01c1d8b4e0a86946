// drivers/virtio's PCI transport against a configuration space played by
// an array: which functions are virtio devices of which type, the vendor
// capabilities found and checked (a legacy-only device, a missing
// structure, a region outside its BAR are refused by name), and the mapped
// regions read where the capabilities say.

#include <gtest/gtest.h>

#include <cstring>

#include "drivers/virtio/pci_transport.h"
#include "tests/unit/drivers/virtio/fake_virtio_pci.h"

namespace ebb::virtio {
namespace {

using pci::testing::FakeConfigSpace;
using pci::testing::FakeFunction;
using testing::add_structure;
using testing::add_virtio_net;
using testing::g_bar4;
using testing::kAt;
using testing::map_bar4;

TEST(VirtioPci, TellsDeviceTypes) {
  FakeConfigSpace config;
  config.add({0, 1, 0}, 0x1af4, 0x1041, 0x02, 0x00);
  config.add({0, 2, 0}, 0x1af4, 0x1000, 0x02, 0x00).set_word(0x2e, 1);  // transitional: the subsystem id
  config.add({0, 4, 0}, 0x1af4, 0x1042, 0x01, 0x00);
  config.add({0, 5, 0}, 0x8086, 0x1041, 0x02, 0x00);
  EXPECT_EQ(device_type(config, pci::describe(config, {0, 1, 0})), 1);
  EXPECT_EQ(device_type(config, pci::describe(config, {0, 2, 0})), 1);
  EXPECT_EQ(device_type(config, pci::describe(config, {0, 4, 0})), 2);
  EXPECT_EQ(device_type(config, pci::describe(config, {0, 5, 0})), 0);
}

TEST(VirtioPci, FindsAndChecksTheStructures) {
  FakeConfigSpace config;
  add_virtio_net(config);
  auto caps = find_capabilities(config, pci::describe(config, kAt));
  ASSERT_TRUE(caps.ok());
  EXPECT_EQ(caps->common.bar, 4);
  EXPECT_EQ(caps->common.length, 0x38u);
  EXPECT_EQ(caps->isr.offset, 0x1000u);
  EXPECT_TRUE(caps->has_device);
  EXPECT_EQ(caps->device.offset, 0x2000u);
  EXPECT_EQ(caps->notify.offset, 0x3000u);
  EXPECT_EQ(caps->notify_multiplier, 4u);
}

TEST(VirtioPci, RefusesLegacyOnlyAndBrokenDevices) {
  FakeConfigSpace legacy;
  legacy.add(kAt, 0x1af4, 0x1000, 0x02, 0x00);
  auto refused = find_capabilities(legacy, pci::describe(legacy, kAt));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(std::strstr(refused.error().message(), "legacy-only"), nullptr);

  FakeConfigSpace no_isr;
  add_virtio_net(no_isr).bytes[0x53] = 9;  // the ISR structure is of an unknown type now
  auto missing = find_capabilities(no_isr, pci::describe(no_isr, kAt));
  ASSERT_FALSE(missing.ok());
  EXPECT_STREQ(missing.error().message(), "virtio: the common, notify or ISR capability is missing");

  FakeConfigSpace outside;
  add_virtio_net(outside, 0x2000);  // notify runs 0x1000 past the BAR's end
  auto overrun = find_capabilities(outside, pci::describe(outside, kAt));
  ASSERT_FALSE(overrun.ok());
  EXPECT_STREQ(overrun.error().message(), "virtio: a capability outside its BAR");
}

TEST(VirtioPci, ReadsTheRegionsWhereTheCapabilitiesSay) {
  FakeConfigSpace config;
  add_virtio_net(config);
  std::memset(g_bar4, 0, sizeof g_bar4);
  const uint16_t queues = 3;
  std::memcpy(g_bar4 + 0x12, &queues, 2);                 // common: num_queues
  g_bar4[0x1000] = 1;                                      // ISR: a queue interrupt
  const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  std::memcpy(g_bar4 + 0x2000, mac, 6);                    // device: the MAC
  auto transport = PciTransport::open(config, pci::describe(config, kAt), &map_bar4);
  ASSERT_TRUE(transport.ok());
  EXPECT_EQ(transport->queue_count(), 3);
  EXPECT_EQ(transport->read_isr(), 1);
  uint8_t read[6] = {};
  ASSERT_TRUE(transport->read_device_config(0, read, 6).ok());
  EXPECT_EQ(std::memcmp(read, mac, 6), 0);
  EXPECT_FALSE(transport->read_device_config(0x0c, read, 6).ok());  // past the 16-byte region
  EXPECT_EQ(transport->max_queue_size(3), 0);  // no queue 3
}

// A device whose doorbell for a queue lies outside its notify region (here
// 0xffff x 4) gets no queue: nothing is ever written there.
TEST(VirtioPci, ADoorbellOutsideTheNotifyRegionIsRefused) {
  FakeConfigSpace config;
  add_virtio_net(config);
  std::memset(g_bar4, 0, sizeof g_bar4);
  const uint16_t queues = 3, size = 256, notify_off = 0xffff;
  std::memcpy(g_bar4 + 0x12, &queues, 2);
  std::memcpy(g_bar4 + 0x18, &size, 2);
  std::memcpy(g_bar4 + 0x1e, &notify_off, 2);
  auto transport = PciTransport::open(config, pci::describe(config, kAt), &map_bar4);
  ASSERT_TRUE(transport.ok());
  Status s = transport->setup_queue(0, 256, 0x1000, 0x2000, 0x3000, kNoVector);
  ASSERT_FALSE(s.ok());
  EXPECT_STREQ(s.error().message(), "virtio: a queue's doorbell outside the notify region");
  uint8_t before[0x1000];
  std::memcpy(before, g_bar4 + 0x3000, sizeof before);
  transport->notify(0);  // never set up: rings nothing
  EXPECT_EQ(std::memcmp(before, g_bar4 + 0x3000, sizeof before), 0);
  EXPECT_FALSE(transport->setup_queue(0, 100, 0x1000, 0x2000, 0x3000, kNoVector).ok());  // not a power of two
}

}  // namespace
}  // namespace ebb::virtio
