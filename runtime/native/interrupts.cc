#include "runtime/native/interrupts.h"

#include "runtime/native/apic.h"
#include "runtime/native/smp.h"

namespace ebb::native {
namespace {
constexpr uint64_t kMsiBase = 0xfee00000;  // Intel SDM 10.11.1
constexpr uint32_t kMaxMsiDestination = 0xff;
}  // namespace

uint32_t core_apic_id(CoreId core) { return cpu_apic_id(cpu_of_core(core)); }

Result<MsiTarget> msi_for_core(CoreId core) {
  if (core >= cpus_online())
    return Error(Errc::kNoSuchCore, "msi_for_core: no CPU for that core", core);
  const uint32_t apic = core_apic_id(core);
  if (apic > kMaxMsiDestination)
    return Error(Errc::kInvalidArgument,
                 "msi_for_core: APIC id over 255, out of an MSI's reach without interrupt remapping",
                 apic);
  // Address: destination id in bits 19:12, redirection hint and destination
  // mode 0 (physical). Data: vector in bits 7:0, delivery mode 0 (fixed),
  // trigger mode 0 (edge; the level bit is then ignored).
  return MsiTarget{kMsiBase | (uint64_t{apic} << 12), kDeviceVector};
}

}  // namespace ebb::native
