#pragma once
// The ACPI tables the image reads: from the RSDP (which the PVH loader
// hands over) through the RSDT or XSDT to the MADT, for the CPUs' local
// APIC ids and the local APIC's address, and to any other table a driver
// asks for (PCI's MCFG).

#include <cstddef>
#include <cstdint>

#include "runtime/result.h"

namespace ebb::native {

struct CpuList {
  static constexpr std::size_t kMaxCpus = 256;
  uint32_t apic_ids[kMaxCpus];
  std::size_t count = 0;
  uint64_t local_apic = 0xfee00000;  // physical
};

// Every enabled (or online-capable) CPU in the MADT, the boot CPU among them.
Status read_madt(uint64_t rsdp, CpuList& out);

// The table with `signature` ("APIC", "MCFG", ...), checksum verified, from
// the RSDP through the XSDT or RSDT; it starts with the standard 36-byte
// header, whose length covers it; null when there is none. Errors name a
// bad RSDP or root table.
Result<const void*> find_acpi_table(uint64_t rsdp, const char (&signature)[5]);

}  // namespace ebb::native
