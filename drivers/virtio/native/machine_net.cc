#include "drivers/virtio/native/machine_net.h"

#include "drivers/pci/native/config_access.h"
#include "runtime/native/interrupts.h"
#include "runtime/native/stack_area.h"
#include "runtime/native/x86.h"

namespace ebb::virtio {
namespace {

Result<volatile uint8_t*> map(const pci::Bar& bar) {
  Result<volatile void*> mapped = pci::map_bar(bar);
  if (!mapped) return mapped.error();
  return static_cast<volatile uint8_t*>(*mapped);
}

// Queue q is polled by core q (the stack's rule): its interrupt wakes that core.
Result<MsiMessage> rx_interrupt(uint32_t queue) {
  Result<native::MsiTarget> target = native::msi_for_core(queue);
  if (!target) return target.error();
  return MsiMessage{target->address, target->data};
}

}  // namespace

uint64_t native_device_address(const void* pointer) {
  const auto address = reinterpret_cast<uint64_t>(pointer);
  if (address >= native::kKernelBase) return address - native::kKernelBase;
  if (native::in_stack_area(address)) return kNoDeviceAddress;
  return address;
}

Result<VirtioNet> open_machine_virtio_net(VirtioNetOptions options) {
  pci::ConfigSpace& config = pci::machine_config_space();
  Result<std::vector<pci::Function>> found = pci::enumerate(config);
  if (!found) return found.error();
  for (const pci::Function& f : *found) {
    if (device_type(config, f) != 1) continue;
    pci::enable_device(config, f);
    options.dma = &native_device_address;
    if (options.rx_interrupt == nullptr && options.interrupts) options.rx_interrupt = &rx_interrupt;
    return VirtioNet::Open(config, f, &map, options);
  }
  return Error(Errc::kInvalidArgument, "virtio-net: no virtio network device on the machine's PCI buses");
}

}  // namespace ebb::virtio
