#pragma once
// MSI-X: where a function keeps its table of interrupt messages, and the
// table itself. Each entry is a message (an address and a value: on x86 the
// target CPU's local APIC and the vector) the device writes to interrupt.
//
//   Result<MsixLayout> layout = msix_layout(config, function);  // checked against the BARs
//   MsixTable table(mapped_table_bar + layout->table_offset, layout->entries);
//   table.set(0, message_address, vector);  table.unmask(0);
//   msix_enable(config, function, *layout);

#include <cstdint>

#include "drivers/pci/pci.h"
#include "runtime/result.h"

namespace ebb::pci {

struct MsixLayout {
  uint8_t capability = 0;  // its offset in configuration space
  uint16_t entries = 0;    // 1..2048
  uint8_t table_bar = 0;
  uint32_t table_offset = 0;
  uint8_t pba_bar = 0;
  uint32_t pba_offset = 0;
};

// The function's MSI-X layout. Errors: no MSI-X capability; a table or
// pending-bit array in a BAR that is not memory or that it overruns.
Result<MsixLayout> msix_layout(ConfigSpace& config, const Function& f);

// Turns MSI-X on for the function (and the function-wide mask off); entries
// stay as the table says (each starts masked).
void msix_enable(ConfigSpace& config, const Function& f, const MsixLayout& layout);
void msix_disable(ConfigSpace& config, const Function& f, const MsixLayout& layout);

// The table, mapped (16 bytes an entry: address low, high, data, control).
class MsixTable {
 public:
  MsixTable(volatile uint32_t* table, uint16_t entries) : table_(table), entries_(entries) {}
  uint16_t entries() const { return entries_; }
  // Entry `i` sends `data` to `address`; it keeps its mask bit. False when
  // there is no such entry.
  bool set(uint16_t i, uint64_t address, uint32_t data);
  bool mask(uint16_t i) { return set_mask(i, true); }
  bool unmask(uint16_t i) { return set_mask(i, false); }
  bool masked(uint16_t i) const { return i < entries_ && (table_[i * 4 + 3] & 1) != 0; }

 private:
  bool set_mask(uint16_t i, bool masked);
  volatile uint32_t* table_;
  uint16_t entries_;
};

}  // namespace ebb::pci
