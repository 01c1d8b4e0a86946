#include "drivers/virtio/pci_transport.h"

#include <cstring>

#include "runtime/fence.h"

namespace ebb::virtio {
namespace {

constexpr uint16_t kVirtioVendor = 0x1af4;
constexpr uint32_t kSubsystemId = 0x2e;

// virtio_pci_cap's cfg_type values.
enum : uint8_t { kCommonCfg = 1, kNotifyCfg = 2, kIsrCfg = 3, kDeviceCfg = 4 };

// struct virtio_pci_common_cfg.
enum : uint32_t {
  kDeviceFeatureSelect = 0x00,
  kDeviceFeature = 0x04,
  kDriverFeatureSelect = 0x08,
  kDriverFeature = 0x0c,
  kConfigMsixVector = 0x10,
  kNumQueues = 0x12,
  kDeviceStatus = 0x14,
  kConfigGeneration = 0x15,
  kQueueSelect = 0x16,
  kQueueSize = 0x18,
  kQueueMsixVector = 0x1a,
  kQueueEnable = 0x1c,
  kQueueNotifyOff = 0x1e,
  kQueueDesc = 0x20,
  kQueueDriver = 0x28,
  kQueueDevice = 0x30,
  kCommonBytes = 0x38,
};

template <class T>
T load(volatile uint8_t* base, uint32_t offset) {
  return *reinterpret_cast<volatile T*>(base + offset);
}
template <class T>
void store(volatile uint8_t* base, uint32_t offset, T value) {
  *reinterpret_cast<volatile T*>(base + offset) = value;
}
// 64-bit fields as two 32-bit halves, low first (virtio spec 4.1.3.1).
void store64(volatile uint8_t* base, uint32_t offset, uint64_t value) {
  store<uint32_t>(base, offset, static_cast<uint32_t>(value));
  store<uint32_t>(base, offset + 4, static_cast<uint32_t>(value >> 32));
}

bool inside_bar(const pci::Function& f, const Region& r) {
  if (r.bar >= 6 || !f.bars[r.bar].memory()) return false;
  const uint64_t size = f.bars[r.bar].size;
  return r.offset <= size && r.length <= size - r.offset;
}

}  // namespace

uint16_t device_type(pci::ConfigSpace& config, const pci::Function& f) {
  if (f.vendor != kVirtioVendor) return 0;
  if (f.device >= 0x1040 && f.device <= 0x107f) return static_cast<uint16_t>(f.device - 0x1040);
  if (f.device >= 0x1000 && f.device <= 0x103f) return config.read16(f.address, kSubsystemId);
  return 0;
}

Result<Capabilities> find_capabilities(pci::ConfigSpace& config, const pci::Function& f) {
  Capabilities caps;
  bool common = false, notify = false, isr = false;
  for (const pci::Capability& c : f.capabilities) {
    if (c.id != pci::kCapabilityVendor) continue;
    const uint8_t length = config.read8(f.address, c.offset + 2u);
    if (length < 16) continue;
    const uint8_t type = config.read8(f.address, c.offset + 3u);
    Region r;
    r.bar = config.read8(f.address, c.offset + 4u);
    r.offset = config.read32(f.address, c.offset + 8u);
    r.length = config.read32(f.address, c.offset + 12u);
    // The first of each type is the one to use (spec 4.1.4); later ones are alternatives.
    if (type == kCommonCfg && !common) {
      caps.common = r;
      common = true;
    } else if (type == kNotifyCfg && !notify && length >= 20) {
      caps.notify = r;
      caps.notify_multiplier = config.read32(f.address, c.offset + 16u);
      notify = true;
    } else if (type == kIsrCfg && !isr) {
      caps.isr = r;
      isr = true;
    } else if (type == kDeviceCfg && !caps.has_device) {
      caps.device = r;
      caps.has_device = true;
    }
  }
  if (!common && !notify && !isr)
    return Error(Errc::kInvalidArgument,
                 "virtio: a legacy-only device (no virtio 1.x capabilities): this driver speaks the modern "
                 "interface (QEMU: drop disable-modern=on)");
  if (!common || !notify || !isr)
    return Error(Errc::kInvalidArgument, "virtio: the common, notify or ISR capability is missing");
  if (caps.common.length < kCommonBytes)
    return Error(Errc::kInvalidArgument, "virtio: the common configuration is too short", caps.common.length);
  for (const Region* r : {&caps.common, &caps.notify, &caps.isr})
    if (!inside_bar(f, *r)) return Error(Errc::kInvalidArgument, "virtio: a capability outside its BAR", r->bar);
  if (caps.has_device && !inside_bar(f, caps.device))
    return Error(Errc::kInvalidArgument, "virtio: the device configuration is outside its BAR", caps.device.bar);
  return caps;
}

Result<PciTransport> PciTransport::open(pci::ConfigSpace& config, const pci::Function& f, MapBar map) {
  Result<Capabilities> caps = find_capabilities(config, f);
  if (!caps) return caps.error();
  auto reach = [&](const Region& r) -> Result<volatile uint8_t*> {
    Result<volatile uint8_t*> bar = map(f.bars[r.bar]);
    if (!bar) return bar.error();
    return *bar + r.offset;
  };
  PciTransport t;
  for (uint32_t& d : t.doorbells_) d = kNoDoorbell;
  Result<volatile uint8_t*> common = reach(caps->common);
  Result<volatile uint8_t*> notify = reach(caps->notify);
  Result<volatile uint8_t*> isr = reach(caps->isr);
  if (!common) return common.error();
  if (!notify) return notify.error();
  if (!isr) return isr.error();
  t.common_ = *common;
  t.notify_ = *notify;
  t.isr_ = *isr;
  t.notify_length_ = caps->notify.length;
  t.notify_multiplier_ = caps->notify_multiplier;
  if (caps->has_device) {
    Result<volatile uint8_t*> device = reach(caps->device);
    if (!device) return device.error();
    t.device_ = *device;
    t.device_length_ = caps->device.length;
  }
  return t;
}

Status PciTransport::reset() {
  store<uint8_t>(common_, kDeviceStatus, 0);
  // The device reads 0 once the reset is done (spec 4.1.4.3.2).
  for (int i = 0; i < 1'000'000; ++i)
    if (load<uint8_t>(common_, kDeviceStatus) == 0) return {};
  return Error(Errc::kTimedOut, "virtio: the device did not finish its reset");
}

uint8_t PciTransport::status() const { return load<uint8_t>(common_, kDeviceStatus); }

void PciTransport::fail() { store<uint8_t>(common_, kDeviceStatus, static_cast<uint8_t>(status() | kStatusFailed)); }

Result<uint64_t> PciTransport::negotiate(uint64_t wanted) {
  if (Status s = reset(); !s) return s.error();
  store<uint8_t>(common_, kDeviceStatus, kStatusAcknowledge);
  store<uint8_t>(common_, kDeviceStatus, kStatusAcknowledge | kStatusDriver);
  uint64_t offered = 0;
  for (uint32_t half = 0; half < 2; ++half) {
    store<uint32_t>(common_, kDeviceFeatureSelect, half);
    offered |= uint64_t{load<uint32_t>(common_, kDeviceFeature)} << (32 * half);
  }
  if ((offered & kVersion1) == 0) {
    fail();
    return Error(Errc::kInvalidArgument, "virtio: the device does not offer VIRTIO_F_VERSION_1");
  }
  const uint64_t agreed = offered & (wanted | kVersion1);
  for (uint32_t half = 0; half < 2; ++half) {
    store<uint32_t>(common_, kDriverFeatureSelect, half);
    store<uint32_t>(common_, kDriverFeature, static_cast<uint32_t>(agreed >> (32 * half)));
  }
  store<uint8_t>(common_, kDeviceStatus, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
  if ((status() & kStatusFeaturesOk) == 0) {
    fail();
    return Error(Errc::kInvalidArgument, "virtio: the device refused the features (FEATURES_OK cleared)");
  }
  features_ = agreed;
  return agreed;
}

uint16_t PciTransport::queue_count() const { return load<uint16_t>(common_, kNumQueues); }

uint16_t PciTransport::max_queue_size(uint16_t queue) const {
  if (queue >= queue_count()) return 0;
  store<uint16_t>(common_, kQueueSelect, queue);
  return load<uint16_t>(common_, kQueueSize);
}

Status PciTransport::setup_queue(uint16_t queue, uint16_t size, uint64_t descriptors, uint64_t driver_area,
                                 uint64_t device_area, uint16_t msix_vector) {
  const uint16_t most = max_queue_size(queue);
  if (most == 0) return Error(Errc::kInvalidArgument, "virtio: no such queue", queue);
  if (queue >= kMaxQueues) return Error(Errc::kInvalidArgument, "virtio: more queues than the driver keeps", queue);
  if (size == 0 || size > most || (size & (size - 1)) != 0)
    return Error(Errc::kInvalidArgument, "virtio: a queue size that is not a power of two up to the device's",
                 size);
  store<uint16_t>(common_, kQueueSelect, queue);
  store<uint16_t>(common_, kQueueSize, size);
  store64(common_, kQueueDesc, descriptors);
  store64(common_, kQueueDriver, driver_area);
  store64(common_, kQueueDevice, device_area);
  store<uint16_t>(common_, kQueueMsixVector, msix_vector);
  if (load<uint16_t>(common_, kQueueMsixVector) != msix_vector)
    return Error(Errc::kExhausted, "virtio: the device refused the queue's MSI-X vector", msix_vector);
  // The doorbell, checked against the notify region (both factors are the
  // device's: 64-bit arithmetic, no wrap).
  const uint64_t doorbell = uint64_t{load<uint16_t>(common_, kQueueNotifyOff)} * notify_multiplier_;
  if (doorbell > notify_length_ || notify_length_ - doorbell < 2)
    return Error(Errc::kInvalidArgument, "virtio: a queue's doorbell outside the notify region", queue);
  doorbells_[queue] = static_cast<uint32_t>(doorbell);
  full_fence();
  store<uint16_t>(common_, kQueueEnable, 1);
  return {};
}

Status PciTransport::set_config_vector(uint16_t msix_vector) {
  store<uint16_t>(common_, kConfigMsixVector, msix_vector);
  if (load<uint16_t>(common_, kConfigMsixVector) != msix_vector)
    return Error(Errc::kExhausted, "virtio: the device refused the configuration MSI-X vector", msix_vector);
  return {};
}

void PciTransport::driver_ok() {
  full_fence();
  store<uint8_t>(common_, kDeviceStatus, static_cast<uint8_t>(status() | kStatusDriverOk));
}

void PciTransport::notify(uint16_t queue) const {
  if (queue >= kMaxQueues || doorbells_[queue] == kNoDoorbell) return;  // not set up: nothing to ring
  full_fence();  // the ring before the doorbell
  store<uint16_t>(notify_, doorbells_[queue], queue);
}

uint8_t PciTransport::read_isr() const { return load<uint8_t>(isr_, 0); }

Status PciTransport::read_device_config(uint32_t offset, void* out, uint32_t bytes) const {
  if (device_ == nullptr || offset > device_length_ || bytes > device_length_ - offset)
    return Error(Errc::kInvalidArgument, "virtio: outside the device configuration", offset);
  // The generation brackets a consistent read (spec 4.1.4.3.1); a device
  // that never settles is given up on.
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const uint8_t before = load<uint8_t>(common_, kConfigGeneration);
    auto* to = static_cast<uint8_t*>(out);
    for (uint32_t i = 0; i < bytes; ++i) to[i] = load<uint8_t>(device_, offset + i);
    if (load<uint8_t>(common_, kConfigGeneration) == before) return {};
  }
  return Error(Errc::kTimedOut, "virtio: the device configuration kept changing");
}

}  // namespace ebb::virtio
