#pragma once
// The ACPI tables the image reads: from the RSDP (which the PVH loader
// hands over) through the RSDT or XSDT to the MADT, for the CPUs' local
// APIC ids and the local APIC's address.

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

}  // namespace ebb::native
