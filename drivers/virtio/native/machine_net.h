#pragma once
// The machine's virtio-net device (native): found on PCI, opened with the
// image's own DMA addressing and, where the device has MSI-X, an interrupt
// per receive queue aimed at the core that polls it.

#include "drivers/virtio/net_device.h"
#include "runtime/result.h"

namespace ebb::virtio {

// Where the device sees `pointer`: the identity map below the image, the
// image and boot heap through their higher-half mapping, nothing for fiber
// stacks (page-mapped, not contiguous). kNoDeviceAddress when out of reach.
uint64_t native_device_address(const void* pointer);

// The first virtio-net function on the machine's PCI buses, opened with
// `options` (its dma and rx_interrupt are filled in here). Errors: none
// found (Errc::kInvalidArgument, saying so), or Open's.
Result<VirtioNet> open_machine_virtio_net(VirtioNetOptions options);

}  // namespace ebb::virtio
