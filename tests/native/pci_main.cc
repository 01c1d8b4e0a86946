// ebb-pci.elf: the machine's PCI functions as the image finds them, one
// line each (like lspci: address, ids, class, BARs, capabilities, and what
// the device got wrong), then checks on what it found: every MSI-X table
// reachable, its entries writable and masked as asked. ctest boots it on
// QEMU's pc (port I/O) and q35 (ECAM) machines with a virtio-net device.
// Exit code 0 when every check passed, 1 otherwise.

#include <cinttypes>
#include <cstdio>

#include "drivers/pci/msix.h"
#include "drivers/pci/native/config_access.h"

namespace {

const char* bar_kind(const ebb::pci::Bar& bar) {
  switch (bar.kind) {
    case ebb::pci::Bar::Kind::kIo: return "io";
    case ebb::pci::Bar::Kind::kMemory32: return "mem32";
    case ebb::pci::Bar::Kind::kMemory64: return "mem64";
    case ebb::pci::Bar::Kind::kNone: break;
  }
  return "-";
}

void print(const ebb::pci::Function& f) {
  std::printf("%02x:%02x.%x %04x:%04x %s (class %02x.%02x.%02x)\n", f.address.bus, f.address.device,
              f.address.function, f.vendor, f.device, ebb::pci::class_name(f.class_code, f.subclass),
              f.class_code, f.subclass, f.interface);
  for (int i = 0; i < 6; ++i) {
    const ebb::pci::Bar& bar = f.bars[i];
    if (bar.kind == ebb::pci::Bar::Kind::kNone) continue;
    std::printf("  bar%d %s 0x%" PRIx64 " size 0x%" PRIx64 "%s\n", i, bar_kind(bar), bar.address, bar.size,
                bar.prefetchable ? " prefetchable" : "");
  }
  if (!f.capabilities.empty()) {
    std::printf("  capabilities:");
    for (const ebb::pci::Capability& c : f.capabilities) std::printf(" %02x@%02x", c.id, c.offset);
    std::printf("\n");
  }
  for (const char* problem : f.problems) std::printf("  problem: %s\n", problem);
}

// Writes entry 0 and the last, reads them back, masks and unmasks: the table
// is where the capability says and behaves as a table.
bool check_msix(ebb::pci::ConfigSpace& config, const ebb::pci::Function& f) {
  auto layout = ebb::pci::msix_layout(config, f);
  if (!layout) {
    std::printf("  msi-x: %s\n", layout.error().message());
    return false;
  }
  auto mapped = ebb::pci::map_bar(f.bars[layout->table_bar]);
  if (!mapped) {
    std::printf("  msi-x: %s\n", mapped.error().message());
    return false;
  }
  ebb::pci::enable_device(config, f);
  auto* table = reinterpret_cast<volatile uint32_t*>(static_cast<volatile uint8_t*>(*mapped) + layout->table_offset);
  ebb::pci::MsixTable msix(table, layout->entries);
  bool ok = true;
  for (uint16_t i : {uint16_t{0}, static_cast<uint16_t>(layout->entries - 1)}) {
    ok &= msix.masked(i);  // every entry starts masked
    ok &= msix.set(i, 0xfee00000u, 0x40u + i);
    ok &= table[i * 4] == 0xfee00000u && table[i * 4 + 2] == 0x40u + i;
    ok &= msix.unmask(i) && !msix.masked(i) && msix.mask(i) && msix.masked(i);
  }
  ok &= !msix.set(layout->entries, 0, 0);  // no such entry
  std::printf("  msi-x: %u entries in bar%u at +0x%x: %s\n", layout->entries, layout->table_bar,
              layout->table_offset, ok ? "table checked" : "TABLE CHECK FAILED");
  return ok;
}

}  // namespace

int main() {
  ebb::pci::ConfigSpace& config = ebb::pci::machine_config_space();
  std::printf("ebb-pci: configuration space through %s\n", ebb::pci::machine_config_space_name());
  auto found = ebb::pci::enumerate(config);
  if (!found) {
    std::printf("ebb-pci: %s\n", found.error().message());
    return 1;
  }
  bool ok = true;
  for (const ebb::pci::Function& f : *found) {
    print(f);
    if (f.find_capability(ebb::pci::kCapabilityMsix)) ok &= check_msix(config, f);
  }
  std::printf("ebb-pci: %zu functions, %s\n", found->size(), ok ? "all checks passed" : "CHECKS FAILED");
  return ok ? 0 : 1;
}
