#include "drivers/pci/pci.h"

namespace ebb::pci {
namespace {

constexpr int kMaxCapabilities = 48;  // (256 - 64) / 4: more means a loop

// Sizes and reads BAR `index`; returns how many BAR slots it used (2 for a
// 64-bit BAR).
int read_bar(ConfigSpace& config, Function& f, int index, int count) {
  const uint32_t offset = kFirstBar + 4 * static_cast<uint32_t>(index);
  const uint32_t low = config.read32(f.address, offset);
  Bar& bar = f.bars[index];
  config.write32(f.address, offset, 0xffffffffu);
  const uint32_t low_mask = config.read32(f.address, offset);
  config.write32(f.address, offset, low);
  if ((low & 1) != 0) {  // I/O space
    const uint32_t mask = low_mask & ~3u & 0xffffu;
    if (mask == 0) return 1;
    bar.kind = Bar::Kind::kIo;
    bar.address = low & ~3u;
    bar.size = (~mask & 0xffffu) + 1;
    return 1;
  }
  const uint32_t type = (low >> 1) & 3;
  bar.prefetchable = (low & 8) != 0;
  uint64_t address = low & ~0xfu;
  uint64_t mask = low_mask & ~0xfu;
  if (type == 2) {
    if (index + 1 >= count) {
      f.problems.push_back("a 64-bit BAR in the last slot (no room for its upper half)");
      return 1;
    }
    const uint32_t high = config.read32(f.address, offset + 4);
    config.write32(f.address, offset + 4, 0xffffffffu);
    const uint32_t high_mask = config.read32(f.address, offset + 4);
    config.write32(f.address, offset + 4, high);
    address |= uint64_t{high} << 32;
    mask |= uint64_t{high_mask} << 32;
    if (mask == 0) return 2;
    bar.kind = Bar::Kind::kMemory64;
    bar.address = address;
    bar.size = ~mask + 1;
    return 2;
  }
  if (type != 0) {
    f.problems.push_back("a memory BAR of a reserved type");
    return 1;
  }
  if (mask == 0) return 1;
  bar.kind = Bar::Kind::kMemory32;
  bar.address = address;
  bar.size = (~mask & 0xffffffffu) + 1;
  return 1;
}

// A BAR's size is a power of two; anything else is a device's invention.
void check_size(Function& f, Bar& bar) {
  if (bar.kind == Bar::Kind::kNone || (bar.size & (bar.size - 1)) == 0) return;
  f.problems.push_back("a BAR whose size is not a power of two (ignored)");
  bar = Bar{};
}

void read_bars(ConfigSpace& config, Function& f) {
  const int count = f.header_type == 0 ? 6 : f.header_type == 1 ? 2 : 0;
  // Decoding off while the BARs hold all ones (they would claim addresses).
  const uint16_t command = config.read16(f.address, kCommand);
  config.write16(f.address, kCommand, command & ~(kCommandIo | kCommandMemory));
  for (int i = 0; i < count;) {
    const int used = read_bar(config, f, i, count);
    check_size(f, f.bars[i]);
    i += used;
  }
  config.write16(f.address, kCommand, command);
}

void read_capabilities(ConfigSpace& config, Function& f) {
  if ((config.read16(f.address, kStatus) & kStatusCapabilities) == 0) return;
  uint8_t at = config.read8(f.address, kCapabilitiesPointer) & 0xfc;
  for (int n = 0; at != 0; ++n) {
    if (at < 0x40) {
      f.problems.push_back("a capability pointer into the standard header");
      return;
    }
    if (n == kMaxCapabilities) {
      f.problems.push_back("a capability list that does not end (a loop)");
      return;
    }
    f.capabilities.push_back({config.read8(f.address, at), at});
    at = config.read8(f.address, at + 1u) & 0xfc;
  }
}

bool present(ConfigSpace& config, Address at) {
  const uint16_t vendor = config.read16(at, kVendorId);
  return vendor != 0xffff && vendor != 0;
}

void scan_bus(ConfigSpace& config, uint8_t bus, std::vector<Function>& out, bool (&seen)[256]) {
  seen[bus] = true;
  for (uint8_t device = 0; device < 32; ++device) {
    if (!present(config, {bus, device, 0})) continue;
    const bool multi = (config.read8({bus, device, 0}, kHeaderType) & 0x80) != 0;
    for (uint8_t function = 0; function < (multi ? 8 : 1); ++function) {
      const Address at{bus, device, function};
      if (function != 0 && !present(config, at)) continue;
      out.push_back(describe(config, at));
      const Function& f = out.back();
      if (!f.is_bridge()) continue;
      const uint8_t secondary = config.read8(at, kSecondaryBus);
      // Buses are numbered downward from their bridge: anything else (or
      // one seen already) would be followed in circles.
      if (secondary <= bus || seen[secondary]) {
        out.back().problems.push_back("a bridge whose secondary bus is not below it");
        continue;
      }
      scan_bus(config, secondary, out, seen);
    }
  }
}

}  // namespace

Function describe(ConfigSpace& config, Address at) {
  Function f;
  f.address = at;
  const uint32_t ids = config.read32(at, kVendorId);
  f.vendor = static_cast<uint16_t>(ids);
  f.device = static_cast<uint16_t>(ids >> 16);
  const uint32_t klass = config.read32(at, kClassRevision);
  f.revision = static_cast<uint8_t>(klass);
  f.interface = static_cast<uint8_t>(klass >> 8);
  f.subclass = static_cast<uint8_t>(klass >> 16);
  f.class_code = static_cast<uint8_t>(klass >> 24);
  f.header_type = config.read8(at, kHeaderType) & 0x7f;
  if (f.header_type > 2) f.problems.push_back("an unknown header type");
  read_bars(config, f);
  read_capabilities(config, f);
  return f;
}

Result<std::vector<Function>> enumerate(ConfigSpace& config) {
  std::vector<Function> found;
  bool seen[256] = {};
  scan_bus(config, 0, found, seen);
  if (found.empty()) return Error(Errc::kInvalidArgument, "pci: no function answers on bus 0");
  return found;
}

void enable_device(ConfigSpace& config, const Function& f) {
  uint16_t command = config.read16(f.address, kCommand);
  command |= kCommandMemory | kCommandBusMaster | kCommandNoLegacyInterrupt;
  for (const Bar& bar : f.bars)
    if (bar.kind == Bar::Kind::kIo) command |= kCommandIo;
  config.write16(f.address, kCommand, command);
}

const char* class_name(uint8_t class_code, uint8_t subclass) {
  switch (class_code) {
    case 0x01: return "storage controller";
    case 0x02: return subclass == 0x00 ? "ethernet controller" : "network controller";
    case 0x03: return "display controller";
    case 0x04: return "multimedia controller";
    case 0x05: return "memory controller";
    case 0x06:
      switch (subclass) {
        case 0x00: return "host bridge";
        case 0x01: return "ISA bridge";
        case 0x04: return "PCI bridge";
        default: return "bridge";
      }
    case 0x07: return "communication controller";
    case 0x08: return "system peripheral";
    case 0x0c: return "serial bus controller";
    case 0xff: return "unassigned class";
    default: return "device";
  }
}

}  // namespace ebb::pci
