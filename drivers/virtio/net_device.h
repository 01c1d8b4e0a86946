#pragma once
// VirtioNet: a virtio-net device (virtio spec 5.1) as a NetDevice
// (ebbs/net/device.h), so the own TCP/IP stack runs on it natively.
//
//   VirtioNetOptions options;
//   options.queue_pairs = num_cores();
//   Result<VirtioNet> nic = VirtioNet::Open(config, function, map_bar, options);
//   Stack<VirtioNet>::Start(std::move(*nic), stack_config);
//
// One RX/TX queue pair per core where the device offers them (VIRTIO_NET_F_MQ
// with a control queue); a device with fewer pairs gets fewer queues, and the
// stack steers the rest in software. Receive buffers are IOBufs handed to the
// device ahead of time and up to the stack as they fill (no copy); a
// transmitted IOBuf's ranges go to the device as they are (no copy) behind
// a 12-byte header. Checksums: when the device offers CSUM, the stack
// leaves the TCP and UDP ones to it (checksum_offload(); the header says
// where), else it computes them in software and the header is one shared
// all-zero one. Received checksums are always the stack's to verify
// (GUEST_CSUM is not asked: the device then hands over only complete
// ones). Frames the device returns too short or too long are counted and
// dropped.
//
// Queue q's receive side belongs to one core (the stack's core q); its
// transmit side may be shared by several cores (a spin lock, uncontended
// when there is a pair per core).
//
// Memory the device reads or writes is named to it by device address:
// options.dma turns a pointer into one (the identity when null, as in the
// hosted tests). A transmitted range the device cannot reach is copied.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

#include "drivers/pci/pci.h"
#include "drivers/virtio/pci_transport.h"
#include "drivers/virtio/split_queue.h"
#include "ebbs/net/device.h"
#include "ebbs/net/iobuf/iobuf.h"
#include "ebbs/net/mac_address.h"
#include "runtime/result.h"

namespace ebb::virtio {

// virtio-net feature bits (virtio spec 5.1.3).
inline constexpr uint64_t kNetChecksum = uint64_t{1} << 0;  // the device finishes checksums we send
inline constexpr uint64_t kNetMtu = uint64_t{1} << 3;
inline constexpr uint64_t kNetMac = uint64_t{1} << 5;
inline constexpr uint64_t kNetStatus = uint64_t{1} << 16;
inline constexpr uint64_t kNetControlQueue = uint64_t{1} << 17;
inline constexpr uint64_t kNetMultiqueue = uint64_t{1} << 22;

// The header in front of every frame (virtio_net_hdr with num_buffers, as
// VERSION_1 has it).
inline constexpr uint32_t kNetHeaderBytes = 12;
// A device address nothing maps to.
inline constexpr uint64_t kNoDeviceAddress = ~uint64_t{0};
using DmaAddress = uint64_t (*)(const void* pointer);

// An interrupt message (MSI-X address and data) for a receive queue.
struct MsiMessage {
  uint64_t address = 0;
  uint32_t data = 0;
};

struct VirtioNetOptions {
  // Queue pairs wanted (usually one per core); the device may offer fewer.
  uint32_t queue_pairs = 1;
  // Entries per queue, at most the device's (a power of two).
  uint16_t queue_size = 256;
  DmaAddress dma = nullptr;
  // The message queue q's interrupt sends (null: no interrupts, poll only).
  // Asked once per receive queue at Open.
  Result<MsiMessage> (*rx_interrupt)(uint32_t queue) = nullptr;
  // False: no interrupts at all; the cores poll without ever sleeping.
  bool interrupts = true;
  // How long Open waits for the device to agree to the pairs (then it
  // opens the device again for one pair).
  uint64_t control_wait_ns = 1'000'000'000;
};

// Per queue pair; written by the cores using it (read from another core
// while they run, a snapshot that may be a few frames behind).
struct VirtioNetCounters {
  uint64_t frames_in = 0;
  uint64_t bytes_in = 0;
  uint64_t frames_out = 0;
  uint64_t bytes_out = 0;
  uint64_t drops_full = 0;      // transmits refused: no room in the ring
  uint64_t bad_frames = 0;      // received lengths shorter than a header, or a bad used entry
  uint64_t rx_starved = 0;      // refills that found no memory (the ring runs short)
  uint64_t tx_copied = 0;       // chains copied: too many ranges, or ranges the device cannot reach
  uint64_t tx_offloaded = 0;    // frames whose TCP/UDP checksum the device finished
  uint64_t errors = 0;          // frames refused (too long or short)
  uint64_t interrupts_armed = 0;

  VirtioNetCounters& operator+=(const VirtioNetCounters& other);
};

class VirtioNet {
 public:
  // Bytes left in front of every received frame, for the stack's use.
  static constexpr std::size_t kReceiveHeadroom = 64;
  // Ranges a transmitted chain may have before it is copied into one.
  static constexpr uint32_t kMaxTransmitRanges = 16;

  // Resets and negotiates with the virtio-net function `f` (enabled for
  // memory and bus mastering by the caller), sets up its queues, fills the
  // receive rings and sets DRIVER_OK. Errors say why: not a virtio-net
  // device, a legacy-only one, no memory, a refused setting.
  static Result<VirtioNet> Open(pci::ConfigSpace& config, const pci::Function& f, MapBar map,
                                const VirtioNetOptions& options);

  VirtioNet(VirtioNet&&) noexcept;
  VirtioNet& operator=(VirtioNet&&) noexcept;
  ~VirtioNet();  // resets the device (it stops using the memory), then frees it

  net::MacAddress mac() const;
  uint32_t mtu() const;
  uint32_t queue_count() const;
  // The features agreed with the device.
  uint64_t features() const;
  // Pairs the device offers (1 without multiqueue).
  uint32_t device_queue_pairs() const;
  // Receive queues that interrupt (MSI-X); 0 when the device polls only.
  uint32_t interrupt_queues() const;
  // The device finishes TCP and UDP checksums of unfragmented IPv4 frames
  // sent (CSUM agreed): the stack stores the pseudo-header's sum only.
  bool checksum_offload() const;

  // The frame behind the zero header, on `queue`'s transmit ring. The chain
  // is the device's until it has sent it (freed at a later transmit or
  // receive). Errc::kExhausted when the ring is full (dropped),
  // kInvalidArgument for a frame longer than mtu() + kEthernetHeaderBytes
  // or shorter than an Ethernet header.
  Status transmit(uint32_t queue, net::IOBuf frame);

  // Hands up to `max` received frames of `queue` to sink(IOBuf), without
  // blocking, then gives the ring fresh buffers. On queue's core.
  template <class Sink>
  std::size_t receive(uint32_t queue, Sink&& sink, std::size_t max) {
    std::size_t received = 0;
    net::IOBuf frame;
    while (received < max && next_frame(queue, &frame)) {
      sink(std::move(frame));
      ++received;
    }
    after_receive(queue, received);
    return received;
  }

  // Before the core sleeps: asks `queue` to interrupt on its next frame;
  // true when frames already wait (do not sleep; receive them). On queue's
  // core; a queue without an interrupt answers true (keep polling).
  bool arm(uint32_t queue);

  VirtioNetCounters counters(uint32_t queue) const;
  VirtioNetCounters counters() const;  // all pairs

  // The receive and transmit rings' own counts of device misbehaviour.
  QueueStats rx_stats(uint32_t queue) const;
  QueueStats tx_stats(uint32_t queue) const;

  struct State;  // net_device.cc

 private:
  explicit VirtioNet(std::unique_ptr<State> state);
  bool next_frame(uint32_t queue, net::IOBuf* frame);
  void after_receive(uint32_t queue, std::size_t received);

  std::unique_ptr<State> state_;
};

static_assert(net::NetDevice<VirtioNet>);

}  // namespace ebb::virtio
