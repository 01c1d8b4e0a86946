// runtime/platform.h on bare x86-64: the console is COM1, time is the TSC,
// stopping is a power-off with an exit code.

#include "runtime/platform.h"

#include "runtime/native/cpu.h"
#include "runtime/native/power.h"
#include "runtime/native/serial.h"
#include "runtime/native/traps.h"

namespace ebb {

uint64_t platform::now_ns() { return native::ns_since_boot(); }

void platform::console_write(const char* text, std::size_t length) { native::serial_write(text, length); }

void platform::print_backtrace(int skip_frames) {
  native::print_backtrace_from(reinterpret_cast<uint64_t>(__builtin_frame_address(0)), skip_frames);
}

void platform::abort_process() { native::power_off(native::kExitPanic); }

}  // namespace ebb
