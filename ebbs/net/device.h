#pragma once
// NetDevice: what the own TCP/IP stack (ebbs/net/stack) needs of a network
// device. The stack is a template over the device type, so every call here
// is a direct (inlinable) call: no virtual call on the packet path.
//
// A device moves whole Ethernet frames (destination MAC first, no FCS) on
// one or more queues. A queue is used by one core at a time; a device with
// fewer queues than cores is shared by steering in software (the stack does
// that). Frames come as IOBufs: a received frame is the caller's to keep,
// and a transmitted chain is the device's (it may keep or copy the bytes).
//
//   drivers/wire  an in-memory link between two stacks (tests, benchmarks)
//   drivers/tap   a Linux TAP device (hosted)
//   drivers/virtio  virtio-net (native, later)

#include <concepts>
#include <cstddef>
#include <cstdint>

#include "ebbs/net/iobuf/iobuf.h"
#include "ebbs/net/mac_address.h"
#include "runtime/result.h"

namespace ebb::net {

// Ethernet header bytes in front of the IP MTU.
inline constexpr uint32_t kEthernetHeaderBytes = 14;

namespace detail {
// Stands in for the stack's frame handler in the concept below.
struct FrameSinkProbe {
  void operator()(IOBuf) const {}
};
}  // namespace detail

template <class D>
concept NetDevice = requires(D& device, const D& cdevice, uint32_t queue, IOBuf frame,
                             detail::FrameSinkProbe sink, std::size_t max) {
  // The device's own address, and its MTU: the largest IP packet (Ethernet
  // payload) it carries.
  { cdevice.mac() } -> std::same_as<MacAddress>;
  { cdevice.mtu() } -> std::same_as<uint32_t>;
  // Queues in each direction (at least 1); queue q serves one core at a time.
  { cdevice.queue_count() } -> std::same_as<uint32_t>;
  // Sends one frame on `queue`. Errc::kExhausted when the device has no room
  // now (the frame is dropped, as a full NIC ring would); kInvalidArgument
  // for a frame longer than mtu() + kEthernetHeaderBytes.
  { device.transmit(queue, std::move(frame)) } -> std::same_as<Status>;
  // Hands up to `max` received frames of `queue` to sink(IOBuf), oldest
  // first, without blocking; returns how many.
  { device.receive(queue, sink, max) } -> std::same_as<std::size_t>;
};

}  // namespace ebb::net
