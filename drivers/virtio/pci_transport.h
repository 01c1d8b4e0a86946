#pragma once
// The virtio 1.x PCI transport (virtio spec 4.1): a device's common
// configuration, notification, ISR and device-specific regions, found
// through its vendor capabilities, and the steps every driver takes with
// them: reset, feature negotiation, queue setup, DRIVER_OK.
//
//   Result<PciTransport> t = PciTransport::open(config, function, map_bar);
//   Result<uint64_t> features = t->negotiate(kVersion1 | kNetMac | ...);
//   t->setup_queue(0, size, desc, driver, device, msix_vector);
//   t->driver_ok();
//
// Legacy-only devices (no virtio 1.x capabilities) are refused with a
// message that says so: the modern interface is the one this driver speaks
// (QEMU's transitional devices offer both).

#include <cstdint>

#include "drivers/pci/pci.h"
#include "runtime/result.h"

namespace ebb::virtio {

// Feature bits (virtio spec 6) this tree uses.
inline constexpr uint64_t kVersion1 = uint64_t{1} << 32;
inline constexpr uint64_t kRingEventIdx = uint64_t{1} << 29;

// Device status bits.
inline constexpr uint8_t kStatusAcknowledge = 1;
inline constexpr uint8_t kStatusDriver = 2;
inline constexpr uint8_t kStatusDriverOk = 4;
inline constexpr uint8_t kStatusFeaturesOk = 8;
inline constexpr uint8_t kStatusNeedsReset = 64;
inline constexpr uint8_t kStatusFailed = 128;

inline constexpr uint16_t kNoVector = 0xffff;

// The virtio device type of a PCI function (1 network, 2 block, ...), or 0
// when it is not a virtio device.
uint16_t device_type(pci::ConfigSpace& config, const pci::Function& f);

// A region of a BAR, as a capability names it.
struct Region {
  uint8_t bar = 0;
  uint32_t offset = 0;
  uint32_t length = 0;
};

struct Capabilities {
  Region common, notify, isr, device;
  uint32_t notify_multiplier = 0;
  bool has_device = false;  // some devices have no device-specific config
};

// The virtio structures of `f`, each checked to lie inside a memory BAR.
Result<Capabilities> find_capabilities(pci::ConfigSpace& config, const pci::Function& f);

// Maps a BAR of the function: where its bytes are, or an error.
using MapBar = Result<volatile uint8_t*> (*)(const pci::Bar& bar);

class PciTransport {
 public:
  static Result<PciTransport> open(pci::ConfigSpace& config, const pci::Function& f, MapBar map);

  // Back to the reset state (waits for the device to report it, boundedly).
  Status reset();
  uint8_t status() const;
  // Marks the device FAILED: a driver that gives up says so.
  void fail();

  // ACKNOWLEDGE, DRIVER, then the features: those offered and `wanted`
  // (kVersion1 is required: a device without it is refused), FEATURES_OK,
  // and the check that the device kept it. Returns the agreed features.
  Result<uint64_t> negotiate(uint64_t wanted);

  uint16_t queue_count() const;
  // The device's largest size for `queue` (0: no such queue).
  uint16_t max_queue_size(uint16_t queue) const;
  // Gives the device queue `queue`: its size and the three areas' device
  // addresses, and its MSI-X vector (kNoVector: none). Errors: no such
  // queue, a size above the device's, the device refusing the vector.
  Status setup_queue(uint16_t queue, uint16_t size, uint64_t descriptors, uint64_t driver_area,
                     uint64_t device_area, uint16_t msix_vector);
  Status set_config_vector(uint16_t msix_vector);
  void driver_ok();
  // Tells the device there is new work in `queue`.
  void notify(uint16_t queue) const;
  // Reads (and so clears) the ISR status: bit 0 queue, bit 1 configuration.
  uint8_t read_isr() const;

  // The device-specific configuration, `bytes` at `offset`, read whole
  // (retried while the device changes it under us). Errors: out of range.
  Status read_device_config(uint32_t offset, void* out, uint32_t bytes) const;

 private:
  PciTransport() = default;
  volatile uint8_t* common_ = nullptr;
  volatile uint8_t* notify_ = nullptr;
  volatile uint8_t* isr_ = nullptr;
  volatile uint8_t* device_ = nullptr;
  uint32_t device_length_ = 0;
  uint32_t notify_length_ = 0;
  uint32_t notify_multiplier_ = 0;
  // Each queue's doorbell offset, read once at setup (the spec's way; a
  // notify then touches only the doorbell, and cores notifying different
  // queues share no select register). kNoDoorbell: not set up.
  static constexpr uint16_t kMaxQueues = 129;  // 64 pairs and a control queue
  static constexpr uint32_t kNoDoorbell = UINT32_MAX;
  uint32_t doorbells_[kMaxQueues];
  uint64_t features_ = 0;
};

}  // namespace ebb::virtio
