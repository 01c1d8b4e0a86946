// Network::Start for a native image: the own stack on the machine's
// virtio-net device, a queue pair per core where the device has them.

#include "apps/common/network.h"
#include "apps/common/stack_network.h"
#include "drivers/virtio/native/machine_net.h"
#include "runtime/runtime.h"

namespace ebb::apps {

Result<std::unique_ptr<Network>> Network::Start(const NetworkFlags& flags) {
  virtio::VirtioNetOptions options;
  // Core q polls queue q: more pairs than cores would leave some unread.
  options.queue_pairs = flags.queues != 0 && flags.queues < num_cores() ? flags.queues : num_cores();
  options.interrupts = !flags.poll;
  Result<virtio::VirtioNet> nic = virtio::open_machine_virtio_net(options);
  if (!nic) return nic.error();
  const uint32_t queues = nic->queue_count();
  std::string name = "virtio-net (" + std::to_string(queues) + (queues == 1 ? " queue pair" : " queue pairs");
  if (nic->interrupt_queues() != 0) name += ", MSI-X";
  if (nic->checksum_offload()) name += ", checksum offload";
  name += ")";
  return StackNetwork<virtio::VirtioNet>::Start(std::move(*nic), flags, std::move(name));
}

}  // namespace ebb::apps
