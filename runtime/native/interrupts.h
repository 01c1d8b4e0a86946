#pragma once
// Device interrupts aimed at a core, for drivers that poll in idle handlers
// and arm an interrupt before their core sleeps (runtime/idle_handler.h).
//
// The interrupt's only job is to end the core's hlt in wait_for_work
// (runtime/native/cores.cc): its handler acknowledges it at the local APIC
// (EOI) and nothing else, and the woken loop polls its idle handlers again.
// It is not lost when it comes early: every CPU runs with interrupts off
// except inside wait_for_work's `sti; hlt`, so one raised after arm() but
// before the sti waits in the local APIC's IRR and is delivered as soon as
// the sti lets it in, which ends the hlt at once (sti holds interrupts back
// for one more instruction, the hlt, which the pending one then ends). One
// raised while core 0 has lent the boot CPU to the Runtime's owner waits
// the same way; the owner's turn ends in core 0's loop, which polls anyway.
// An early interrupt costs at most one spurious wake-up later: harmless.

#include <cstdint>

#include "runtime/core.h"
#include "runtime/result.h"

namespace ebb::native {

// Where a device writes to interrupt a CPU (PCI MSI or MSI-X): `address`
// into the MSI address register(s), `data` into the data register.
struct MsiTarget {
  uint64_t address;
  uint32_t data;
};

// The MSI that ends `core`'s sleep: physical destination mode, fixed
// delivery, edge triggered, vector kDeviceVector (runtime/native/apic.h),
// to the local APIC of the CPU the core runs on. Errors: kNoSuchCore for a
// core with no CPU in this image; kInvalidArgument for a CPU whose APIC id
// is over 255 (x2APIC only): the MSI address holds 8 bits of destination,
// and the image sets up no interrupt remapping (nor the hypervisors'
// extended destination id), so such a core cannot be reached by a device;
// its driver must poll it or aim the interrupt at another core.
Result<MsiTarget> msi_for_core(CoreId core);

// The CPU a core runs on (core c on CPU c), and that CPU's APIC id.
uint32_t cpu_of_core(CoreId core);
uint32_t core_apic_id(CoreId core);

}  // namespace ebb::native
