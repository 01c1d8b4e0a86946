// ebb-virtio.elf: finds the machine's virtio-net device, speaks the virtio
// 1.x PCI transport to it (reset, feature negotiation, FEATURES_OK) and
// prints what it offers: its MAC address, queues and agreed features.
// Exit code 0 when a device was found and negotiated with, 1 otherwise
// (with the reason: no device, a legacy-only device, a refusal).

#include <cinttypes>
#include <cstdio>

#include "drivers/pci/native/config_access.h"
#include "drivers/virtio/pci_transport.h"

namespace {

constexpr uint64_t kNetMac = uint64_t{1} << 5;
constexpr uint64_t kNetStatus = uint64_t{1} << 16;
constexpr uint64_t kNetMq = uint64_t{1} << 22;
constexpr uint16_t kNetworkDevice = 1;

ebb::Result<volatile uint8_t*> map(const ebb::pci::Bar& bar) {
  ebb::Result<volatile void*> mapped = ebb::pci::map_bar(bar);
  if (!mapped) return mapped.error();
  return static_cast<volatile uint8_t*>(*mapped);
}

int fail(const char* what, const ebb::Error& why) {
  std::printf("ebb-virtio: %s: %s\n", what, why.message());
  return 1;
}

}  // namespace

int main() {
  ebb::pci::ConfigSpace& config = ebb::pci::machine_config_space();
  auto found = ebb::pci::enumerate(config);
  if (!found) return fail("pci", found.error());
  for (const ebb::pci::Function& f : *found) {
    if (ebb::virtio::device_type(config, f) != kNetworkDevice) continue;
    std::printf("ebb-virtio: virtio-net at %02x:%02x.%x (%04x:%04x)\n", f.address.bus, f.address.device,
                f.address.function, f.vendor, f.device);
    ebb::pci::enable_device(config, f);
    auto transport = ebb::virtio::PciTransport::open(config, f, &map);
    if (!transport) return fail("transport", transport.error());
    auto features = transport->negotiate(ebb::virtio::kRingEventIdx | kNetMac | kNetStatus | kNetMq);
    if (!features) return fail("negotiation", features.error());
    uint8_t mac[6] = {};
    uint16_t max_pairs = 1;
    if ((*features & kNetMac) != 0) {
      if (auto s = transport->read_device_config(0, mac, sizeof mac); !s) return fail("config", s.error());
    }
    if ((*features & kNetMq) != 0) {
      if (auto s = transport->read_device_config(8, &max_pairs, 2); !s) return fail("config", s.error());
    }
    std::printf("ebb-virtio: features 0x%" PRIx64 " agreed (version 1%s%s%s), status 0x%02x\n", *features,
                (*features & kNetMac) != 0 ? ", mac" : "", (*features & kNetMq) != 0 ? ", multiqueue" : "",
                (*features & ebb::virtio::kRingEventIdx) != 0 ? ", event idx" : "", transport->status());
    std::printf("ebb-virtio: mac %02x:%02x:%02x:%02x:%02x:%02x, %u queues (up to %u pairs), queue 0 up to %u entries\n",
                mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], transport->queue_count(), max_pairs,
                transport->max_queue_size(0));
    (void)transport->reset();
    return 0;
  }
  std::printf("ebb-virtio: no virtio-net device\n");
  return 1;
}
