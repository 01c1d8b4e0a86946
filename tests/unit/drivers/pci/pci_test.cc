// drivers/pci against devices played by an array: discovery through
// bridges, BAR sizing, capability lists and MSI-X layouts, and what a
// hostile device's configuration space must not make the code do (loop,
// recurse without end, trust a table outside its BAR).

#include <gtest/gtest.h>

#include <vector>

#include "drivers/pci/msix.h"
#include "drivers/pci/pci.h"
#include "tests/unit/drivers/pci/fake_config_space.h"

namespace ebb::pci {
namespace {

using testing::FakeConfigSpace;
using testing::FakeFunction;

TEST(Pci, FindsFunctionsOnBusZeroAndBehindBridges) {
  FakeConfigSpace config;
  config.add({0, 0, 0}, 0x8086, 0x1237, 0x06, 0x00);
  config.add({0, 1, 0}, 0x8086, 0x7000, 0x06, 0x01, 0x80);  // multi-function
  config.add({0, 1, 3}, 0x8086, 0x7113, 0x06, 0x80);
  FakeFunction& bridge = config.add({0, 2, 0}, 0x1b36, 0x000c, 0x06, 0x04, 1);
  bridge.bytes[kSecondaryBus] = 1;
  config.add({1, 0, 0}, 0x1af4, 0x1041, 0x02, 0x00);
  config.add({0, 5, 2}, 0x1234, 0x5678, 0x02, 0x00);  // function 2 of a single-function device: not there

  auto found = enumerate(config);
  ASSERT_TRUE(found.ok());
  std::vector<Address> addresses;
  for (const Function& f : *found) addresses.push_back(f.address);
  const std::vector<Address> expected = {{0, 0, 0}, {0, 1, 0}, {0, 1, 3}, {0, 2, 0}, {1, 0, 0}};
  EXPECT_EQ(addresses, expected);
  const Function& nic = found->back();
  EXPECT_EQ(nic.vendor, 0x1af4);
  EXPECT_EQ(nic.device, 0x1041);
  EXPECT_STREQ(class_name(nic.class_code, nic.subclass), "ethernet controller");
  EXPECT_TRUE((*found)[3].is_bridge());
  for (const Function& f : *found) EXPECT_TRUE(f.problems.empty());
}

TEST(Pci, NothingThereIsAnError) {
  FakeConfigSpace config;
  auto found = enumerate(config);
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().code(), Errc::kInvalidArgument);
}

TEST(Pci, SizesIoMemoryAnd64BitBarsWithDecodingOff) {
  FakeConfigSpace config;
  FakeFunction& f = config.add({0, 3, 0}, 0x1af4, 0x1000, 0x02, 0x00);
  f.set_dword(kFirstBar + 0, 0xc001);      // I/O at 0xc000
  f.bar_size[0] = 0x20;
  f.set_dword(kFirstBar + 4, 0xfebf1000);  // 32-bit memory
  f.bar_size[1] = 0x1000;
  f.set_dword(kFirstBar + 16, 0xfe00000c); // 64-bit prefetchable memory, high half 1
  f.set_dword(kFirstBar + 20, 0x1);
  f.bar_size[4] = 0x4000;

  Function d = describe(config, {0, 3, 0});
  EXPECT_EQ(d.bars[0].kind, Bar::Kind::kIo);
  EXPECT_EQ(d.bars[0].address, 0xc000u);
  EXPECT_EQ(d.bars[0].size, 0x20u);
  EXPECT_EQ(d.bars[1].kind, Bar::Kind::kMemory32);
  EXPECT_EQ(d.bars[1].address, 0xfebf1000u);
  EXPECT_EQ(d.bars[1].size, 0x1000u);
  EXPECT_EQ(d.bars[4].kind, Bar::Kind::kMemory64);
  EXPECT_TRUE(d.bars[4].prefetchable);
  EXPECT_EQ(d.bars[4].address, 0x1fe000000u);
  EXPECT_EQ(d.bars[4].size, 0x4000u);
  EXPECT_EQ(d.bars[5].kind, Bar::Kind::kNone);  // the upper half, not a BAR of its own
  EXPECT_EQ(d.bars[2].kind, Bar::Kind::kNone);
  // The BARs hold their addresses again, decoding is back on, and it was
  // off while they held all ones.
  EXPECT_EQ(f.dword(kFirstBar + 4), 0xfebf1000u);
  EXPECT_EQ(f.dword(kFirstBar + 20), 0x1u);
  EXPECT_EQ(f.dword(kCommand) & (kCommandIo | kCommandMemory), uint32_t{kCommandIo | kCommandMemory});
  EXPECT_EQ(f.writes_with_decoding_on_during_sizing, 0u);
}

TEST(Pci, A64BitBarInTheLastSlotIsAProblemNotARead) {
  FakeConfigSpace config;
  FakeFunction& f = config.add({0, 3, 0}, 0x1af4, 0x1000, 0x02, 0x00);
  f.set_dword(kFirstBar + 20, 0xfe00000c);
  f.bar_size[5] = 0x4000;
  Function d = describe(config, {0, 3, 0});
  EXPECT_EQ(d.bars[5].kind, Bar::Kind::kNone);
  ASSERT_EQ(d.problems.size(), 1u);
  EXPECT_STREQ(d.problems[0], "a 64-bit BAR in the last slot (no room for its upper half)");
}

TEST(Pci, ABarWhoseSizeIsNotAPowerOfTwoIsIgnored) {
  FakeConfigSpace config;
  FakeFunction& f = config.add({0, 3, 0}, 0x1af4, 0x1000, 0x02, 0x00);
  f.set_dword(kFirstBar + 4, 0xfebf0000);
  f.bar_size[1] = 0x3000;
  Function d = describe(config, {0, 3, 0});
  EXPECT_EQ(d.bars[1].kind, Bar::Kind::kNone);
  ASSERT_EQ(d.problems.size(), 1u);
  EXPECT_STREQ(d.problems[0], "a BAR whose size is not a power of two (ignored)");
}

// Status (beside Command) is write-one-to-clear: turning decoding off and on
// and enabling the device leave its bits as the device set them.
TEST(Pci, CommandWritesLeaveStatusAlone) {
  FakeConfigSpace config;
  FakeFunction& f = config.add({0, 3, 0}, 0x1af4, 0x1000, 0x02, 0x00);
  f.set_word(kStatus, kStatusCapabilities | 0x8000);  // capabilities, and a parity error seen
  f.bytes[kCapabilitiesPointer] = 0x40;
  f.bytes[0x40] = kCapabilityMsix;
  f.set_dword(kFirstBar + 4, 0xfebf0000);
  f.bar_size[1] = 0x1000;
  Function d = describe(config, {0, 3, 0});
  enable_device(config, d);
  EXPECT_EQ(d.capabilities.size(), 1u);
  EXPECT_EQ(f.dword(kCommand) >> 16, uint32_t{kStatusCapabilities | 0x8000});
  EXPECT_NE(f.dword(kCommand) & kCommandBusMaster, 0u);
}

// Capabilities at 0x40 -> 0x50 -> 0x60 (MSI-X) -> end.
void add_capabilities(FakeFunction& f) {
  f.set_word(kStatus, kStatusCapabilities);
  f.bytes[kCapabilitiesPointer] = 0x40;
  f.bytes[0x40] = kCapabilityVendor;
  f.bytes[0x41] = 0x50;
  f.bytes[0x50] = kCapabilityVendor;
  f.bytes[0x51] = 0x60;
  f.bytes[0x60] = kCapabilityMsix;
  f.bytes[0x61] = 0;
}

TEST(Pci, WalksTheCapabilityList) {
  FakeConfigSpace config;
  add_capabilities(config.add({0, 3, 0}, 0x1af4, 0x1041, 0x02, 0x00));
  Function d = describe(config, {0, 3, 0});
  ASSERT_EQ(d.capabilities.size(), 3u);
  EXPECT_EQ(d.capabilities[2].id, kCapabilityMsix);
  EXPECT_EQ(d.capabilities[2].offset, 0x60);
  EXPECT_EQ(d.find_capability(kCapabilityMsix)->offset, 0x60);
  EXPECT_FALSE(d.find_capability(kCapabilityMsi).has_value());
  EXPECT_TRUE(d.problems.empty());
}

TEST(Pci, ALoopingCapabilityListIsCutShort) {
  FakeConfigSpace config;
  FakeFunction& f = config.add({0, 3, 0}, 0x1af4, 0x1041, 0x02, 0x00);
  add_capabilities(f);
  f.bytes[0x61] = 0x40;  // back to the first
  Function d = describe(config, {0, 3, 0});
  EXPECT_EQ(d.capabilities.size(), 48u);
  ASSERT_EQ(d.problems.size(), 1u);
  EXPECT_STREQ(d.problems[0], "a capability list that does not end (a loop)");
}

TEST(Pci, ACapabilityPointerIntoTheHeaderIsRefused) {
  FakeConfigSpace config;
  FakeFunction& f = config.add({0, 3, 0}, 0x1af4, 0x1041, 0x02, 0x00);
  add_capabilities(f);
  f.bytes[0x51] = 0x10;
  Function d = describe(config, {0, 3, 0});
  EXPECT_EQ(d.capabilities.size(), 2u);
  ASSERT_EQ(d.problems.size(), 1u);
  EXPECT_STREQ(d.problems[0], "a capability pointer into the standard header");
}

TEST(Pci, ABridgeThatPointsBackIsNotFollowed) {
  FakeConfigSpace config;
  config.add({0, 0, 0}, 0x8086, 0x29c0, 0x06, 0x00);
  FakeFunction& up = config.add({0, 2, 0}, 0x1b36, 0x000c, 0x06, 0x04, 1);
  up.bytes[kSecondaryBus] = 1;
  FakeFunction& back = config.add({1, 0, 0}, 0x1b36, 0x000c, 0x06, 0x04, 1);
  back.bytes[kSecondaryBus] = 0;  // a loop to bus 0
  FakeFunction& self = config.add({1, 1, 0}, 0x1b36, 0x000c, 0x06, 0x04, 1);
  self.bytes[kSecondaryBus] = 1;  // its own bus
  auto found = enumerate(config);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 4u);
  EXPECT_EQ((*found)[2].problems.size(), 1u);
  EXPECT_EQ((*found)[3].problems.size(), 1u);
  EXPECT_STREQ((*found)[2].problems[0], "a bridge whose secondary bus is not below it");
}

// MSI-X at 0x60: `entries` entries, table in bar1 at `offset`, pending bits
// in bar1 at 0x800.
Function msix_function(FakeConfigSpace& config, uint16_t entries, uint32_t offset) {
  FakeFunction& f = config.add({0, 3, 0}, 0x1af4, 0x1041, 0x02, 0x00);
  add_capabilities(f);
  f.set_word(0x62, static_cast<uint16_t>(entries - 1));
  f.set_dword(0x64, offset | 1);
  f.set_dword(0x68, 0x800 | 1);
  f.set_dword(kFirstBar + 4, 0xfebf1000);
  f.bar_size[1] = 0x1000;
  return describe(config, {0, 3, 0});
}

TEST(Msix, ReadsAndChecksTheLayout) {
  FakeConfigSpace config;
  Function d = msix_function(config, 4, 0);
  auto layout = msix_layout(config, d);
  ASSERT_TRUE(layout.ok());
  EXPECT_EQ(layout->capability, 0x60);
  EXPECT_EQ(layout->entries, 4);
  EXPECT_EQ(layout->table_bar, 1);
  EXPECT_EQ(layout->table_offset, 0u);
  EXPECT_EQ(layout->pba_bar, 1);
  EXPECT_EQ(layout->pba_offset, 0x800u);
}

TEST(Msix, ATableOutsideItsBarIsRefused) {
  FakeConfigSpace config;
  Function d = msix_function(config, 128, 0x900);  // 0x900 + 128 * 16 > 0x1000
  auto layout = msix_layout(config, d);
  ASSERT_FALSE(layout.ok());
  EXPECT_STREQ(layout.error().message(), "msi-x: the table is not inside a memory BAR");
  FakeConfigSpace none;
  Function plain = describe(none, {0, 0, 0});
  EXPECT_FALSE(msix_layout(none, plain).ok());  // no capability at all
}

TEST(Msix, EnablesAndProgramsEntries) {
  FakeConfigSpace config;
  Function d = msix_function(config, 4, 0);
  auto layout = msix_layout(config, d);
  ASSERT_TRUE(layout.ok());
  config.at({0, 3, 0}).set_word(0x62, 3 | (1u << 14));  // function-wide mask set
  msix_enable(config, d, *layout);
  EXPECT_EQ(config.at({0, 3, 0}).bytes[0x63] & 0xc0, 0x80);  // enabled, function mask off
  msix_disable(config, d, *layout);
  EXPECT_EQ(config.at({0, 3, 0}).bytes[0x63] & 0x80, 0);

  uint32_t table[16] = {};
  for (int i = 0; i < 4; ++i) table[i * 4 + 3] = 1;  // entries start masked
  MsixTable msix(table, 4);
  EXPECT_TRUE(msix.set(2, 0x1'fee0'1000ull, 0x41));
  EXPECT_EQ(table[8], 0xfee01000u);
  EXPECT_EQ(table[9], 0x1u);
  EXPECT_EQ(table[10], 0x41u);
  EXPECT_TRUE(msix.masked(2));  // set() leaves the mask alone
  EXPECT_TRUE(msix.unmask(2));
  EXPECT_FALSE(msix.masked(2));
  EXPECT_TRUE(msix.masked(1));
  EXPECT_FALSE(msix.set(4, 0, 0));
  EXPECT_FALSE(msix.unmask(4));
}

}  // namespace
}  // namespace ebb::pci
