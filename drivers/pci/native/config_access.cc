#include "drivers/pci/native/config_access.h"

#include <cstring>

#include "runtime/native/acpi.h"
#include "runtime/native/image.h"
#include "runtime/native/x86.h"
#include "runtime/spin_lock.h"

namespace ebb::pci {
namespace {

constexpr uint16_t kAddressPort = 0xcf8;
constexpr uint16_t kDataPort = 0xcfc;
constexpr uint64_t kIdentityMapped = uint64_t{4} << 30;

// The address and data ports are one pair for the whole machine.
constinit SpinLock g_port_lock;

uint32_t port_address(Address at, uint32_t offset) {
  return 0x80000000u | uint32_t{at.bus} << 16 | uint32_t{at.device & 31u} << 11 |
         uint32_t{at.function & 7u} << 8 | (offset & 0xfcu);
}

struct [[gnu::packed]] McfgEntry {
  uint64_t base;
  uint16_t segment;
  uint8_t first_bus;
  uint8_t last_bus;
  uint32_t reserved;
};

// Segment 0's window from the MCFG, or null (none, or out of reach).
EcamConfigSpace* ecam_from_mcfg() {
  Result<const void*> table = native::find_acpi_table(native::boot_info().rsdp, "MCFG");
  if (!table || *table == nullptr) return nullptr;
  const auto* bytes = static_cast<const uint8_t*>(*table);
  uint32_t length;
  std::memcpy(&length, bytes + 4, 4);
  constexpr uint32_t kEntries = 36 + 8;  // the header, then 8 reserved bytes
  for (uint32_t at = kEntries; at + sizeof(McfgEntry) <= length; at += sizeof(McfgEntry)) {
    McfgEntry e;
    std::memcpy(&e, bytes + at, sizeof e);
    const uint64_t bytes_needed = (uint64_t{e.last_bus} - e.first_bus + 1) << 20;
    if (e.segment != 0 || e.last_bus < e.first_bus || e.first_bus != 0) continue;
    if (e.base == 0 || e.base >= kIdentityMapped || bytes_needed > kIdentityMapped - e.base) continue;
    static EcamConfigSpace ecam(e.base, e.first_bus, e.last_bus);
    return &ecam;
  }
  return nullptr;
}

struct Choice {
  ConfigSpace* space;
  const char* name;
};

Choice& choice() {
  static Choice chosen = [] {
    if (EcamConfigSpace* ecam = ecam_from_mcfg()) return Choice{ecam, "ECAM"};
    static PortIoConfigSpace ports;
    return Choice{&ports, "port I/O"};
  }();
  return chosen;
}

}  // namespace

uint32_t PortIoConfigSpace::read32(Address at, uint32_t offset) {
  if (offset >= 256) return 0xffffffffu;
  SpinLockGuard guard(g_port_lock);
  native::outl(kAddressPort, port_address(at, offset));
  return native::inl(kDataPort);
}

void PortIoConfigSpace::write32(Address at, uint32_t offset, uint32_t value) {
  if (offset >= 256) return;
  SpinLockGuard guard(g_port_lock);
  native::outl(kAddressPort, port_address(at, offset));
  native::outl(kDataPort, value);
}

volatile uint32_t* EcamConfigSpace::reach(Address at, uint32_t offset) const {
  if (at.bus < first_bus_ || at.bus > last_bus_ || offset >= 4096) return nullptr;
  const uint64_t address = base_ + (static_cast<uint64_t>(at.bus - first_bus_) << 20) +
                           (uint64_t{at.device & 31u} << 15) + (uint64_t{at.function & 7u} << 12) +
                           (offset & ~3u);
  return reinterpret_cast<volatile uint32_t*>(address);
}

uint32_t EcamConfigSpace::read32(Address at, uint32_t offset) {
  volatile uint32_t* p = reach(at, offset);
  return p != nullptr ? *p : 0xffffffffu;
}

void EcamConfigSpace::write32(Address at, uint32_t offset, uint32_t value) {
  if (volatile uint32_t* p = reach(at, offset)) *p = value;
}

ConfigSpace& machine_config_space() { return *choice().space; }
const char* machine_config_space_name() { return choice().name; }

Result<volatile void*> map_bar(const Bar& bar) {
  if (!bar.memory() || bar.size == 0) return Error(Errc::kInvalidArgument, "pci: not a memory BAR");
  if (bar.address == 0 || bar.address >= kIdentityMapped || bar.size > kIdentityMapped - bar.address)
    return Error(Errc::kInvalidArgument, "pci: a BAR out of the identity map's reach (above 4 GiB)",
                 static_cast<int64_t>(bar.address >> 20));
  return reinterpret_cast<volatile void*>(bar.address);
}

}  // namespace ebb::pci
