#include "runtime/native/cpu.h"

#include <cstring>

#include "runtime/native/boot_heap.h"
#include "runtime/native/x86.h"

extern "C" char __tdata_start[], __tdata_end[], __tbss_end[];

namespace ebb::native {
namespace {

uint64_t g_tsc_hz = 1'000'000'000;  // until calibrated
uint64_t g_tsc_at_boot = 0;

}  // namespace

namespace {
std::size_t tls_bytes() {
  return (static_cast<std::size_t>(__tbss_end - __tdata_start) + 63) & ~std::size_t{63};
}
}  // namespace

uint64_t make_tls() {
  // x86-64 TLS variant II: the block ends where FS points, and the word at
  // FS:0 holds FS's own address.
  const std::size_t data = static_cast<std::size_t>(__tdata_end - __tdata_start);
  const std::size_t bytes = tls_bytes();
  auto* block = static_cast<uint8_t*>(boot_heap_allocate(bytes + 64, 64));
  if (block == nullptr) return 0;
  std::memcpy(block, __tdata_start, data);
  std::memset(block + data, 0, bytes - data);
  uint8_t* thread_pointer = block + bytes;
  std::memset(thread_pointer, 0, 64);
  *reinterpret_cast<uint8_t**>(thread_pointer) = thread_pointer;
  return reinterpret_cast<uint64_t>(thread_pointer);
}

void free_tls(uint64_t thread_pointer) {
  if (thread_pointer != 0) boot_heap_free(reinterpret_cast<uint8_t*>(thread_pointer) - tls_bytes());
}

Status install_tls() {
  const uint64_t thread_pointer = make_tls();
  if (thread_pointer == 0) return Error(Errc::kExhausted, "cpu: no memory for thread-local storage");
  wrmsr(kMsrFsBase, thread_pointer);
  return {};
}

void calibrate_tsc() {
  // PIT channel 2, gated by port 0x61, counts 1,193,182 Hz: 11,932 ticks = 10 ms.
  constexpr uint32_t kPitHz = 1193182;
  constexpr uint16_t kTicks = 11932;
  outb(0x61, static_cast<uint8_t>((inb(0x61) & ~0x02) | 0x01));  // gate on, speaker off
  outb(0x43, 0xb0);                                             // channel 2, mode 0, binary
  outb(0x42, kTicks & 0xff);
  outb(0x42, kTicks >> 8);
  const uint64_t start = rdtsc();
  while ((inb(0x61) & 0x20) == 0) pause();  // OUT2 goes high at terminal count
  const uint64_t elapsed = rdtsc() - start;
  g_tsc_hz = elapsed * kPitHz / kTicks;
  g_tsc_at_boot = start;
}

uint64_t tsc_hz() { return g_tsc_hz; }

uint64_t ns_since_boot() {
  const uint64_t ticks = rdtsc() - g_tsc_at_boot;
  return static_cast<uint64_t>(static_cast<unsigned __int128>(ticks) * 1'000'000'000u / g_tsc_hz);
}

}  // namespace ebb::native
