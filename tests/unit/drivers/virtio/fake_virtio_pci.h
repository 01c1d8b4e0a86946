#pragma once
// A modern virtio-net PCI function in a FakeConfigSpace, its bar4 played by
// an array: the transport's and the driver's tests open it as they would
// QEMU's device.

#include <cstdint>

#include "drivers/pci/pci.h"
#include "runtime/result.h"
#include "tests/unit/drivers/pci/fake_config_space.h"

namespace ebb::virtio::testing {

inline constexpr pci::Address kAt{0, 3, 0};

// A vendor capability at `at` naming `type`'s region in bar4.
inline void add_structure(pci::testing::FakeFunction& f, uint8_t at, uint8_t next, uint8_t type, uint32_t offset,
                          uint32_t length, uint8_t cap_length = 16) {
  f.bytes[at] = pci::kCapabilityVendor;
  f.bytes[at + 1] = next;
  f.bytes[at + 2] = cap_length;
  f.bytes[at + 3] = type;
  f.bytes[at + 4] = 4;  // bar4
  f.set_dword(at + 8u, offset);
  f.set_dword(at + 12u, length);
}

// A modern virtio-net: common at 0, ISR at 0x1000, device at 0x2000,
// notify at 0x3000 (multiplier 4), all in a 16 KiB bar4.
inline pci::testing::FakeFunction& add_virtio_net(pci::testing::FakeConfigSpace& config,
                                                  uint32_t notify_length = 0x1000) {
  pci::testing::FakeFunction& f = config.add(kAt, 0x1af4, 0x1041, 0x02, 0x00);
  f.set_dword(pci::kFirstBar + 16, 0xfe00000c);
  f.bar_size[4] = 0x4000;
  f.set_word(pci::kStatus, pci::kStatusCapabilities);
  f.bytes[pci::kCapabilitiesPointer] = 0x40;
  add_structure(f, 0x40, 0x50, 1, 0x0000, 0x38);
  add_structure(f, 0x50, 0x60, 3, 0x1000, 0x4);
  add_structure(f, 0x60, 0x70, 4, 0x2000, 0x10);
  add_structure(f, 0x70, 0x00, 2, 0x3000, notify_length, 20);
  f.set_dword(0x70 + 16, 4);
  return f;
}

// bar4's bytes, as the transport's map function hands them out. Plain
// memory: a register reads back what was written, and the feature words
// read the same whatever the select (a test picks bits that suit both).
alignas(8) inline uint8_t g_bar4[0x4000];
inline Result<volatile uint8_t*> map_bar4(const pci::Bar& bar) {
  if (bar.size != sizeof g_bar4) return Error(Errc::kInvalidArgument, "test: not bar4");
  return static_cast<volatile uint8_t*>(g_bar4);
}

}  // namespace ebb::virtio::testing
