#pragma once
// Per-CPU state the hardware reaches through a register: thread-local
// storage (the runtime's per-core state is `thread_local`, as on hosted;
// here each CPU gets a copy of the image's TLS block and its FS base
// points at it) and the TSC clock.

#include <cstdint>

#include "runtime/result.h"

namespace ebb::native {

// Gives the calling CPU a fresh TLS block (from the boot heap).
Status install_tls();
// A fresh TLS block for a thread of execution of its own (core 0 beside the
// owner on the boot CPU): the value for the FS base, or 0 when out of memory.
uint64_t make_tls();
void free_tls(uint64_t thread_pointer);

// The TSC's rate, measured once against the PIT at boot (TCG has no
// invariant TSC leaf to read it from), and time since then.
void calibrate_tsc();
uint64_t tsc_hz();
uint64_t ns_since_boot();

}  // namespace ebb::native
