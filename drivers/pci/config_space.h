#pragma once
// A PCI function's configuration space, as a driver reads and writes it.
//
// ConfigSpace is the access method: the legacy port I/O mechanism (the
// first 256 bytes), ECAM (memory-mapped, 4 KiB a function, when ACPI's MCFG
// names a window), or, in tests, an array that plays a device. Only
// enumeration and setup use it: virtual calls are fine here.

#include <cstdint>

namespace ebb::pci {

struct Address {
  uint8_t bus = 0;
  uint8_t device = 0;    // 0..31
  uint8_t function = 0;  // 0..7
  friend bool operator==(const Address&, const Address&) = default;
};

class ConfigSpace {
 public:
  virtual ~ConfigSpace() = default;
  // The bytes of a function's space this method reaches: 256 or 4096.
  virtual uint32_t size() const = 0;
  // `offset` 4-aligned and below size(); a function that is not there
  // reads as all ones.
  virtual uint32_t read32(Address at, uint32_t offset) = 0;
  virtual void write32(Address at, uint32_t offset, uint32_t value) = 0;

  uint16_t read16(Address at, uint32_t offset) {
    return static_cast<uint16_t>(read32(at, offset & ~3u) >> ((offset & 2) * 8));
  }
  uint8_t read8(Address at, uint32_t offset) {
    return static_cast<uint8_t>(read32(at, offset & ~3u) >> ((offset & 3) * 8));
  }
  // A 16-bit write within its dword (read, merge, write). The Status
  // register beside Command is write-one-to-clear: it is written as zeros.
  void write16(Address at, uint32_t offset, uint16_t value) {
    const uint32_t shift = (offset & 2) * 8;
    uint32_t old = read32(at, offset & ~3u);
    if ((offset & ~3u) == 0x04) old &= 0x0000ffffu;
    write32(at, offset & ~3u, (old & ~(0xffffu << shift)) | (uint32_t{value} << shift));
  }
};

// Offsets of the standard header.
inline constexpr uint32_t kVendorId = 0x00;
inline constexpr uint32_t kCommand = 0x04;
inline constexpr uint32_t kStatus = 0x06;
inline constexpr uint32_t kClassRevision = 0x08;
inline constexpr uint32_t kHeaderType = 0x0e;
inline constexpr uint32_t kFirstBar = 0x10;
inline constexpr uint32_t kSecondaryBus = 0x19;  // bridges (header type 1)
inline constexpr uint32_t kCapabilitiesPointer = 0x34;

inline constexpr uint16_t kCommandIo = 1u << 0;
inline constexpr uint16_t kCommandMemory = 1u << 1;
inline constexpr uint16_t kCommandBusMaster = 1u << 2;
inline constexpr uint16_t kCommandNoLegacyInterrupt = 1u << 10;
inline constexpr uint16_t kStatusCapabilities = 1u << 4;

}  // namespace ebb::pci
