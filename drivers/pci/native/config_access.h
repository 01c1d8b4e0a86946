#pragma once
// The machine's configuration space access (native): ECAM when ACPI's MCFG
// names a window for segment 0 (q35), else the legacy port I/O mechanism
// (0xcf8/0xcfc: the first 256 bytes; i440fx).

#include "drivers/pci/pci.h"
#include "runtime/result.h"

namespace ebb::pci {

class PortIoConfigSpace final : public ConfigSpace {
 public:
  uint32_t size() const override { return 256; }
  uint32_t read32(Address at, uint32_t offset) override;
  void write32(Address at, uint32_t offset, uint32_t value) override;
};

class EcamConfigSpace final : public ConfigSpace {
 public:
  // The window for buses first_bus..last_bus, at physical `base` (below
  // 4 GiB, where the identity map reaches).
  EcamConfigSpace(uint64_t base, uint8_t first_bus, uint8_t last_bus)
      : base_(base), first_bus_(first_bus), last_bus_(last_bus) {}
  uint32_t size() const override { return 4096; }
  uint32_t read32(Address at, uint32_t offset) override;
  void write32(Address at, uint32_t offset, uint32_t value) override;

 private:
  volatile uint32_t* reach(Address at, uint32_t offset) const;
  uint64_t base_;
  uint8_t first_bus_, last_bus_;
};

// The image's access method, chosen once (the MCFG read at the first call).
ConfigSpace& machine_config_space();
// "ECAM" or "port I/O".
const char* machine_config_space_name();

// Where a memory BAR can be reached: its physical address through the
// identity map (BARs below 4 GiB). Errc::kInvalidArgument otherwise.
Result<volatile void*> map_bar(const Bar& bar);

}  // namespace ebb::pci
