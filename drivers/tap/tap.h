#pragma once
// TapDevice: a Linux TAP interface as a NetDevice (ebbs/net/device.h), so the
// own TCP/IP stack runs on a hosted machine against the kernel's stack, a
// bridge or a VM.
//
// The TAP is a cable with the kernel at one end and this device at the other:
// mac() is the stack's address on that cable, never the kernel interface's.
// Each queue is one non-blocking /dev/net/tun fd (IFF_TAP | IFF_NO_PI, plus
// IFF_MULTI_QUEUE for several); the stack's glue watches fd(queue) for
// EPOLLIN with ebb::hosted::watch_fd and calls receive() when it is ready.
//
//   auto tap = TapDevice::Open("tap0", {.queues = 2}).value();
//   tap.transmit(0, std::move(frame));
//   tap.receive(0, [&](net::IOBuf f) { stack.input(std::move(f)); }, 32);
//
// Open attaches to an existing TAP (one made with `ip tuntap add dev NAME mode
// tap [multi_queue]`, which persists) or creates one that lasts while it is
// open. It does not configure the interface: bringing the kernel end up and
// giving it addresses is the host's business.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "ebbs/net/device.h"
#include "ebbs/net/iobuf/iobuf.h"
#include "ebbs/net/mac_address.h"
#include "runtime/function.h"
#include "runtime/panic.h"
#include "runtime/result.h"

namespace ebb::drivers {

struct TapOptions {
  // One fd per queue; more than one needs (or creates) a multi_queue TAP.
  uint32_t queues = 1;
  // The stack's address; by default one derived from the interface name.
  std::optional<net::MacAddress> mac;
};

// Per queue, written only by the core that uses the queue.
struct TapCounters {
  uint64_t frames_in = 0;
  uint64_t bytes_in = 0;
  uint64_t frames_out = 0;
  uint64_t bytes_out = 0;
  uint64_t drops_full = 0;  // transmits refused with kExhausted (EAGAIN)
  uint64_t errors = 0;      // frames refused (too long/short), failed reads and writes

  TapCounters& operator+=(const TapCounters& other);
};

class TapDevice {
 public:
  // The most queues one TAP takes (the kernel's MAX_TAP_QUEUES).
  static constexpr uint32_t kMaxQueues = 256;
  // Bytes left in front of every received frame, for the stack's use.
  static constexpr std::size_t kReceiveHeadroom = 64;

  // Errc::kInvalidArgument for an empty name or one longer than IFNAMSIZ-1,
  // or queues outside [1, kMaxQueues]; Errc::kSystem (with errno) when the
  // kernel refuses, with a message that names the device.
  static Result<TapDevice> Open(std::string_view name, TapOptions options = {});

  // A moved-from device has no queues.
  TapDevice(TapDevice&& other) noexcept;
  TapDevice& operator=(TapDevice&& other) noexcept;
  ~TapDevice() = default;  // closes the fds (a TAP Open created goes away)

  net::MacAddress mac() const { return mac_; }
  // The interface's MTU when it was opened (1500 when it could not be read).
  uint32_t mtu() const { return mtu_; }
  uint32_t queue_count() const { return queue_count_; }
  const std::string& name() const { return name_; }
  // The fd of `queue`, to watch for EPOLLIN; owned by the device.
  int fd(uint32_t queue) const { return queue_at(queue).fd; }
  // Runs on_ready (an event on the calling core) whenever frames wait on
  // `queue`; the stack's glue reads them then. unwatch() stops it. On a core.
  Status watch(uint32_t queue, Function<void()> on_ready);
  void unwatch(uint32_t queue);

  // One writev of the chain's ranges. Errc::kExhausted when the kernel has
  // no room (dropped), kInvalidArgument for a frame longer than mtu() +
  // kEthernetHeaderBytes or shorter than an Ethernet header.
  Status transmit(uint32_t queue, net::IOBuf frame);

  // Hands up to `max` waiting frames to sink(IOBuf), without blocking.
  template <class Sink>
  std::size_t receive(uint32_t queue, Sink&& sink, std::size_t max) {
    std::size_t received = 0;
    while (received < max) {
      Result<net::IOBuf> frame = read_frame(queue);
      if (!frame) break;
      sink(std::move(frame).value());
      ++received;
    }
    return received;
  }

  // The next waiting frame of `queue`: Errc::kExhausted when none waits
  // (EAGAIN); another Error when reading failed (counted). Frames too long
  // for the buffer are dropped and counted, and the next one is read.
  Result<net::IOBuf> read_frame(uint32_t queue);

  TapCounters counters(uint32_t queue) const;
  TapCounters counters() const;  // all queues

 private:
  struct alignas(64) Queue {
    int fd = -1;
    TapCounters counters;
    net::IOBuf spare;  // a buffer a read found nothing for, kept for the next

    Queue() = default;
    Queue(const Queue&) = delete;
    Queue& operator=(const Queue&) = delete;
    ~Queue();
  };

  TapDevice() = default;
  Queue& queue_at(uint32_t queue) const {
    EBB_CHECK(queue < queue_count_, "TAP %s has no queue %u", name_.c_str(), queue);
    return queues_[queue];
  }

  std::string name_;
  net::MacAddress mac_;
  uint32_t mtu_ = 1500;
  uint32_t queue_count_ = 0;
  std::unique_ptr<Queue[]> queues_;
};

static_assert(net::NetDevice<TapDevice>);

}  // namespace ebb::drivers
