#pragma once
// PCI discovery: every function on the buses below bus 0 (through
// PCI-to-PCI bridges), with its ids, class, BARs (address and size, sized
// the standard way with decoding off) and capability list.
//
//   pci::PortIoConfigSpace config;            // or an ECAM window (native/)
//   Result<std::vector<pci::Function>> found = pci::enumerate(config);
//   for (const pci::Function& f : *found) ...
//
// A device is untrusted input: a capability list that loops or points into
// the header, a 64-bit BAR with no room for its upper half, a bridge whose
// secondary bus goes backwards are noted on the function (`problems`) or
// skipped, never followed without bound.

#include <cstdint>
#include <optional>
#include <vector>

#include "drivers/pci/config_space.h"
#include "runtime/result.h"

namespace ebb::pci {

struct Bar {
  enum class Kind : uint8_t { kNone, kIo, kMemory32, kMemory64 };
  Kind kind = Kind::kNone;
  bool prefetchable = false;
  uint64_t address = 0;  // physical (or the I/O port)
  uint64_t size = 0;
  bool memory() const { return kind == Kind::kMemory32 || kind == Kind::kMemory64; }
};

struct Capability {
  uint8_t id = 0;
  uint8_t offset = 0;
};

// Capability ids the drivers use.
inline constexpr uint8_t kCapabilityMsi = 0x05;
inline constexpr uint8_t kCapabilityVendor = 0x09;  // virtio's structures
inline constexpr uint8_t kCapabilityMsix = 0x11;

struct Function {
  Address address;
  uint16_t vendor = 0;
  uint16_t device = 0;
  uint8_t class_code = 0;
  uint8_t subclass = 0;
  uint8_t interface = 0;
  uint8_t revision = 0;
  uint8_t header_type = 0;  // 0 device, 1 PCI-to-PCI bridge (multi-function bit cleared)
  Bar bars[6];
  std::vector<Capability> capabilities;
  // What was wrong with what the device reported (empty when nothing).
  std::vector<const char*> problems;

  std::optional<Capability> find_capability(uint8_t id) const {
    for (const Capability& c : capabilities)
      if (c.id == id) return c;
    return std::nullopt;
  }
  bool is_bridge() const { return header_type == 1 && class_code == 0x06 && subclass == 0x04; }
};

// Every function present, in bus, device, function order (bridges before
// the functions behind them). Errc::kInvalidArgument when no function at
// all answers (no PCI, or an access method that reaches nothing).
Result<std::vector<Function>> enumerate(ConfigSpace& config);

// One function's description (as enumerate finds it), sizing its BARs.
Function describe(ConfigSpace& config, Address at);

// Turns on memory (and I/O) decoding and bus mastering, and off the legacy
// interrupt line (drivers use MSI-X).
void enable_device(ConfigSpace& config, const Function& f);

// A short name for a class ("network controller", "host bridge", ...).
const char* class_name(uint8_t class_code, uint8_t subclass);

}  // namespace ebb::pci
