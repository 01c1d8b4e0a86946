#include "runtime/native/power.h"

#include "runtime/native/x86.h"

namespace ebb::native {

void power_off(uint32_t exit_code) {
  outl(0xf4, exit_code);
  for (;;) {
    interrupts_off();
    halt();
  }
}

}  // namespace ebb::native
