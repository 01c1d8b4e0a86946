#pragma once
// Ending the machine with an exit code for the host. Under QEMU the
// isa-debug-exit device (`-device isa-debug-exit,iobase=0xf4,iosize=0x04`)
// ends QEMU with status (code << 1) | 1, so an image's 0 is QEMU's 1;
// deploy/qemu-run maps it back. Without that device the CPU halts, and the
// host's watchdog ends the boot.

#include <cstdint>

namespace ebb::native {

// Exit codes of the image (before QEMU's doubling).
inline constexpr uint32_t kExitPassed = 0;
inline constexpr uint32_t kExitFailed = 1;     // tests failed, or the app said so
inline constexpr uint32_t kExitPanic = 2;      // a broken invariant (runtime/panic.h)
inline constexpr uint32_t kExitException = 3;  // a CPU exception
inline constexpr uint32_t kExitBootError = 4;  // bad memory map, command line, ...

[[noreturn]] void power_off(uint32_t exit_code);

}  // namespace ebb::native
