#include "drivers/pci/msix.h"

namespace ebb::pci {
namespace {

constexpr uint16_t kEnable = 1u << 15;
constexpr uint16_t kFunctionMask = 1u << 14;

bool inside_memory_bar(const Function& f, uint8_t bar, uint64_t offset, uint64_t bytes) {
  if (bar >= 6 || !f.bars[bar].memory()) return false;
  return offset <= f.bars[bar].size && bytes <= f.bars[bar].size - offset;
}

}  // namespace

Result<MsixLayout> msix_layout(ConfigSpace& config, const Function& f) {
  const std::optional<Capability> cap = f.find_capability(kCapabilityMsix);
  if (!cap) return Error(Errc::kInvalidArgument, "msi-x: the function has no MSI-X capability");
  MsixLayout layout;
  layout.capability = cap->offset;
  layout.entries = static_cast<uint16_t>((config.read16(f.address, cap->offset + 2u) & 0x7ff) + 1);
  const uint32_t table = config.read32(f.address, cap->offset + 4u);
  const uint32_t pba = config.read32(f.address, cap->offset + 8u);
  layout.table_bar = static_cast<uint8_t>(table & 7);
  layout.table_offset = table & ~7u;
  layout.pba_bar = static_cast<uint8_t>(pba & 7);
  layout.pba_offset = pba & ~7u;
  if (!inside_memory_bar(f, layout.table_bar, layout.table_offset, uint64_t{layout.entries} * 16))
    return Error(Errc::kInvalidArgument, "msi-x: the table is not inside a memory BAR", layout.table_bar);
  if (!inside_memory_bar(f, layout.pba_bar, layout.pba_offset, (uint64_t{layout.entries} + 63) / 64 * 8))
    return Error(Errc::kInvalidArgument, "msi-x: the pending bits are not inside a memory BAR", layout.pba_bar);
  return layout;
}

void msix_enable(ConfigSpace& config, const Function& f, const MsixLayout& layout) {
  const uint32_t control = layout.capability + 2u;
  const uint16_t value = config.read16(f.address, control);
  config.write16(f.address, control, static_cast<uint16_t>((value | kEnable) & ~kFunctionMask));
}

void msix_disable(ConfigSpace& config, const Function& f, const MsixLayout& layout) {
  const uint32_t control = layout.capability + 2u;
  config.write16(f.address, control, config.read16(f.address, control) & ~kEnable);
}

bool MsixTable::set(uint16_t i, uint64_t address, uint32_t data) {
  if (i >= entries_) return false;
  volatile uint32_t* entry = table_ + i * 4;
  entry[0] = static_cast<uint32_t>(address);
  entry[1] = static_cast<uint32_t>(address >> 32);
  entry[2] = data;
  return true;
}

bool MsixTable::set_mask(uint16_t i, bool masked) {
  if (i >= entries_) return false;
  volatile uint32_t* control = table_ + i * 4 + 3;
  *control = masked ? (*control | 1u) : (*control & ~1u);
  return true;
}

}  // namespace ebb::pci
