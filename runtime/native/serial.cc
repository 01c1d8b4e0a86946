#include "runtime/native/serial.h"

#include <cstdarg>

#include "runtime/native/format.h"
#include "runtime/native/x86.h"

namespace ebb::native {
namespace {

constexpr uint16_t kCom1 = 0x3f8;
constexpr uint8_t kLineStatusEmpty = 0x20;  // transmit holding register empty

}  // namespace

void serial_init() {
  outb(kCom1 + 1, 0x00);  // no interrupts
  outb(kCom1 + 3, 0x80);  // divisor latch
  outb(kCom1 + 0, 0x01);  // 115200 baud
  outb(kCom1 + 1, 0x00);
  outb(kCom1 + 3, 0x03);  // 8 bits, no parity, one stop bit
  outb(kCom1 + 2, 0xc7);  // FIFO on, cleared
}

void serial_write(const char* text, std::size_t length) {
  for (std::size_t i = 0; i < length; ++i) {
    while ((inb(kCom1 + 5) & kLineStatusEmpty) == 0) pause();
    outb(kCom1, static_cast<uint8_t>(text[i]));
  }
}

void serial_printf(const char* f, ...) {
  char text[1024];
  va_list args;
  va_start(args, f);
  int n = format(text, sizeof text, f, args);
  va_end(args);
  if (n > static_cast<int>(sizeof text) - 1) n = sizeof text - 1;
  serial_write(text, static_cast<std::size_t>(n));
}

}  // namespace ebb::native
