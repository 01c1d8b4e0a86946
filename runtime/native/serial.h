#pragma once
// The COM1 serial port (16550 UART at I/O port 0x3f8): the native console.
// Polled output, no interrupts: it works from the first instruction of
// native_boot to the last of a panic.

#include <cstddef>

namespace ebb::native {

void serial_init();
void serial_write(const char* text, std::size_t length);
// Formatted (runtime/native/format.cc), up to 1 KiB a call, no allocation:
// usable from an exception handler.
void serial_printf(const char* format, ...) __attribute__((format(printf, 1, 2)));

}  // namespace ebb::native
