#include "drivers/virtio/net_device.h"

#include <algorithm>
#include <bit>
#include <cstdio>
#include <cstring>
#include <new>

#include "drivers/pci/msix.h"
#include "runtime/panic.h"
#include "runtime/platform.h"
#include "runtime/spin_lock.h"

namespace ebb::virtio {
namespace {

// The header of every transmitted frame whose checksums are done (all of
// them without CSUM; with it, frames that are not IPv4 TCP or UDP): no
// checksum to finish, no segmentation.
alignas(16) const uint8_t kZeroHeader[kNetHeaderBytes] = {};

// The device-specific configuration (virtio spec 5.1.4).
constexpr uint32_t kConfigMac = 0;
constexpr uint32_t kConfigMaxPairs = 8;
constexpr uint32_t kConfigMtu = 10;

// The control queue's multiqueue command (virtio spec 5.1.6.5.5).
constexpr uint8_t kControlMultiqueue = 4;
constexpr uint8_t kControlPairsSet = 0;
constexpr uint8_t kControlOk = 0;

// The header's fields (virtio_net_hdr) for a checksum the device finishes.
constexpr uint8_t kHeaderNeedsChecksum = 1;
constexpr uint32_t kHeaderChecksumStart = 6;   // le16: where the summed bytes begin
constexpr uint32_t kHeaderChecksumOffset = 8;  // le16: where the sum goes, from there

// Where the checksum of an unfragmented IPv4 TCP or UDP frame starts and
// sits (from its start): {0, 0} for any other frame.
struct ChecksumPlace {
  uint16_t start = 0;
  uint16_t offset = 0;
};
ChecksumPlace checksum_place(const net::IOBuf& frame) {
  uint8_t h[24];  // Ethernet and IPv4 up to the protocol
  if (!frame.copy_out(0, h, sizeof h)) return {};
  if (h[12] != 0x08 || h[13] != 0x00 || (h[14] >> 4) != 4) return {};
  const uint16_t fragment = static_cast<uint16_t>((h[20] << 8 | h[21]) & 0x3fff);  // MF and the offset
  if (fragment != 0) return {};
  const uint16_t start = static_cast<uint16_t>(net::kEthernetHeaderBytes + (h[14] & 0x0f) * 4);
  if (h[23] == 6) return {start, 16};  // TCP's checksum field
  if (h[23] == 17) return {start, 6};  // UDP's
  return {};
}

constexpr uint32_t kMinMtu = 68;  // IPv4's least (RFC 791)
constexpr uint32_t kMaxMtu = 9000;
constexpr uint16_t kControlQueueSize = 16;

uint64_t identity(const void* pointer) { return reinterpret_cast<uint64_t>(pointer); }

// Ring memory the device reads and writes: page-aligned, freed with it.
struct RingMemory {
  void* block = nullptr;
  RingMemory() = default;
  RingMemory(const RingMemory&) = delete;
  RingMemory& operator=(const RingMemory&) = delete;
  ~RingMemory() {
    if (block != nullptr) ::operator delete(block, std::align_val_t{4096});
  }
  bool allocate(std::size_t bytes) {
    block = ::operator new(bytes, std::align_val_t{4096}, std::nothrow);
    return block != nullptr;
  }
};

// Slots for the IOBufs the device holds, by the cookie their chain carries.
class BufferSlots {
 public:
  bool init(uint32_t count) {
    buffers_.reset(new (std::nothrow) net::IOBuf[count]);
    free_.reset(new (std::nothrow) uint16_t[count]);
    if (!buffers_ || !free_) return false;
    for (uint32_t i = 0; i < count; ++i) free_[i] = static_cast<uint16_t>(count - 1 - i);
    free_count_ = count;
    count_ = count;
    return true;
  }
  bool full() const { return free_count_ == 0; }
  bool none_in_use() const { return free_count_ == count_; }
  uint32_t free_count() const { return free_count_; }
  // Keeps `buffer`; the cookie that names it.
  void* keep(net::IOBuf buffer) {
    const uint16_t slot = free_[--free_count_];
    buffers_[slot] = std::move(buffer);
    return reinterpret_cast<void*>(uintptr_t{slot} + 1);
  }
  // The slot a cookie names.
  static uint32_t slot_of(void* cookie) { return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(cookie) - 1); }
  // Back what a cookie names (the ring gives only cookies it was given).
  net::IOBuf release(void* cookie) {
    const uint32_t slot = slot_of(cookie);
    EBB_CHECK(slot < count_, "virtio-net: a cookie outside the slots (%u)", slot);
    free_[free_count_++] = slot;
    return std::move(buffers_[slot]);
  }

 private:
  std::unique_ptr<net::IOBuf[]> buffers_;
  std::unique_ptr<uint16_t[]> free_;
  uint32_t free_count_ = 0;
  uint32_t count_ = 0;
};

struct Ring {
  RingMemory memory;
  SplitQueue queue;
  BufferSlots slots;
  uint16_t index = 0;  // the device's queue number
  // Transmit rings with checksum offload: a header per slot (the device
  // reads the one of each chain it holds).
  std::unique_ptr<uint8_t[]> headers;
};

}  // namespace

VirtioNetCounters& VirtioNetCounters::operator+=(const VirtioNetCounters& o) {
  frames_in += o.frames_in;
  bytes_in += o.bytes_in;
  frames_out += o.frames_out;
  bytes_out += o.bytes_out;
  drops_full += o.drops_full;
  bad_frames += o.bad_frames;
  rx_starved += o.rx_starved;
  tx_copied += o.tx_copied;
  tx_offloaded += o.tx_offloaded;
  errors += o.errors;
  interrupts_armed += o.interrupts_armed;
  return *this;
}

// Receive side (one core) and transmit side (under the lock) on lines of
// their own.
struct alignas(64) Pair {
  Ring rx;
  VirtioNetCounters rx_counters;  // frames_in, bytes_in, bad_frames, rx_starved, interrupts_armed
  bool interrupts = false;        // rx has an MSI-X vector
  bool rx_armed = false;
  alignas(64) SpinLock tx_lock;
  Ring tx;
  VirtioNetCounters tx_counters;  // the rest
};

struct VirtioNet::State {
  PciTransport transport;
  pci::ConfigSpace* config = nullptr;
  pci::Function function;
  std::optional<pci::MsixLayout> msix;
  DmaAddress dma = identity;
  uint64_t features = 0;
  net::MacAddress mac;
  uint32_t mtu = 1500;
  uint32_t rx_buffer_bytes = 0;  // header + Ethernet header + MTU
  uint32_t device_pairs = 1;
  uint32_t pairs = 0;
  uint32_t interrupt_queues = 0;
  std::unique_ptr<Pair[]> queue_pairs;
  // The control queue and its command, kept while the device may hold them.
  std::unique_ptr<Ring> control;
  struct alignas(16) Command {
    uint8_t klass;
    uint8_t command;
    uint16_t pairs;
    uint8_t ack;
  };
  std::unique_ptr<Command> command;

  explicit State(PciTransport t) : transport(std::move(t)) {}
  ~State() {
    // The device stops touching the rings and buffers before they go.
    (void)transport.reset();
    if (msix) pci::msix_disable(*config, function, *msix);
  }

  Status setup_ring(Ring& ring, uint16_t index, uint16_t wanted, uint16_t vector, uint32_t buffers) {
    uint16_t size = std::min(wanted, transport.max_queue_size(index));
    if (size == 0) return Error(Errc::kInvalidArgument, "virtio-net: the device has no such queue", index);
    size = static_cast<uint16_t>(std::bit_floor(size));
    const std::size_t bytes = SplitQueue::bytes_needed(size);
    if (!ring.memory.allocate(bytes)) return Error(Errc::kExhausted, "virtio-net: no memory for a ring", index);
    const uint64_t address = dma(ring.memory.block);
    if (address == kNoDeviceAddress) return Error(Errc::kInvalidArgument, "virtio-net: a ring the device cannot reach");
    if (Status s = ring.queue.init(ring.memory.block, address, size, (features & kRingEventIdx) != 0); !s) return s;
    if (buffers != 0 && !ring.slots.init(std::min<uint32_t>(buffers, size)))
      return Error(Errc::kExhausted, "virtio-net: no memory for a ring's slots", index);
    ring.index = index;
    return transport.setup_queue(index, size, ring.queue.desc_address(), ring.queue.driver_address(),
                                 ring.queue.device_address(), vector);
  }

  // Gives the receive ring fresh buffers for every free slot; whether the
  // device asked to be told.
  bool refill(Pair& p) {
    Ring& rx = p.rx;
    bool added = false;
    while (!rx.slots.full() && rx.queue.free_descriptors() > 0) {
      Result<net::IOBuf> buffer = net::IOBuf::Create(rx_buffer_bytes, kReceiveHeadroom);
      if (!buffer) {
        ++p.rx_counters.rx_starved;  // try again next time round
        break;
      }
      uint8_t* data = buffer->push_back(rx_buffer_bytes);
      const Buffer writable{dma(data), rx_buffer_bytes};
      if (writable.address == kNoDeviceAddress) {
        ++p.rx_counters.rx_starved;
        break;
      }
      void* cookie = rx.slots.keep(std::move(*buffer));
      if (!rx.queue.add({}, {&writable, 1}, cookie)) {
        (void)rx.slots.release(cookie);
        break;
      }
      added = true;
    }
    return added && rx.queue.publish();
  }

  // Frees the chains the device has sent. Under tx_lock.
  static void reclaim(Ring& tx) {
    while (std::optional<Completion> done = tx.queue.take()) (void)tx.slots.release(done->cookie);
  }

  Status setup_control();
  Status set_pairs(uint32_t wanted, uint64_t wait_ns);
  Status setup_interrupts(const VirtioNetOptions& options, MapBar map);
};

// The control queue, set up with the other queues (before DRIVER_OK: a
// device may start its datapath then and ignore a queue enabled later).
Status VirtioNet::State::setup_control() {
  control.reset(new (std::nothrow) Ring);
  command.reset(new (std::nothrow) Command{});
  if (!control || !command) return Error(Errc::kExhausted, "virtio-net: no memory for the control queue");
  return setup_ring(*control, static_cast<uint16_t>(2 * device_pairs), kControlQueueSize, kNoVector, 0);
}

// Asks the device to use `wanted` pairs (after DRIVER_OK) and waits for its
// answer, boundedly. Until it agrees the device uses the first pair only.
Status VirtioNet::State::set_pairs(uint32_t wanted, uint64_t wait_ns) {
  *command = Command{kControlMultiqueue, kControlPairsSet, static_cast<uint16_t>(wanted), 0xff};
  const uint64_t at = dma(command.get());
  const Buffer readable[] = {{at, 2}, {at + 2, 2}};
  const Buffer writable{at + 4, 1};
  if (Status s = control->queue.add(readable, {&writable, 1}, command.get()); !s) return s;
  (void)control->queue.publish();
  transport.notify(control->index);
  const uint64_t deadline = platform::now_ns() + wait_ns;
  std::optional<Completion> done;
  while (!(done = control->queue.take()) && platform::now_ns() < deadline) {
  }
  if (!done) return Error(Errc::kTimedOut, "virtio-net: the device did not answer the multiqueue command");
  if (__atomic_load_n(&command->ack, __ATOMIC_ACQUIRE) != kControlOk)
    return Error(Errc::kInvalidArgument, "virtio-net: the device refused the number of queue pairs", wanted);
  return {};
}

// An MSI-X entry per receive queue (entry q: queue q's message), when the
// device has enough of them; otherwise every queue polls.
Status VirtioNet::State::setup_interrupts(const VirtioNetOptions& options, MapBar map) {
  if (options.rx_interrupt == nullptr || !options.interrupts) return {};
  Result<pci::MsixLayout> layout = pci::msix_layout(*config, function);
  if (!layout) return {};  // no MSI-X: poll
  if (layout->entries < pairs) {
    std::printf("virtio-net: %u MSI-X entries for %u receive queues: polling only\n", layout->entries, pairs);
    return {};
  }
  Result<volatile uint8_t*> table_bar = map(function.bars[layout->table_bar]);
  if (!table_bar) return table_bar.error();
  pci::MsixTable table(reinterpret_cast<volatile uint32_t*>(*table_bar + layout->table_offset), layout->entries);
  for (uint32_t q = 0; q < pairs; ++q) {
    Result<MsiMessage> message = options.rx_interrupt(q);
    if (!message) {
      // No message reaches queue q's core (an APIC id past what an MSI
      // names): every queue polls rather than some sleeping deaf.
      char why[kErrorTextSize];
      std::printf("virtio-net: no interrupt for queue %u (%s): polling only\n", q,
                  message.error().describe(why, sizeof why));
      return {};
    }
    table.set(static_cast<uint16_t>(q), message->address, message->data);
    table.unmask(static_cast<uint16_t>(q));
  }
  pci::msix_enable(*config, function, *layout);
  msix = *layout;
  if (Status s = transport.set_config_vector(kNoVector); !s) return s;
  interrupt_queues = pairs;
  for (uint32_t q = 0; q < pairs; ++q) queue_pairs[q].interrupts = true;
  return {};
}

Result<VirtioNet> VirtioNet::Open(pci::ConfigSpace& config, const pci::Function& f, MapBar map,
                                  const VirtioNetOptions& options) {
  if (device_type(config, f) != 1) return Error(Errc::kInvalidArgument, "virtio-net: not a virtio network device");
  if (options.queue_pairs == 0) return Error(Errc::kInvalidArgument, "virtio-net: no queue pairs asked for");
  Result<PciTransport> transport = PciTransport::open(config, f, map);
  if (!transport) return transport.error();
  auto state = std::unique_ptr<State>(new (std::nothrow) State(std::move(*transport)));
  if (!state) return Error(Errc::kExhausted, "virtio-net: no memory");
  State& s = *state;
  s.config = &config;
  s.function = f;
  if (options.dma != nullptr) s.dma = options.dma;

  uint64_t wanted = kRingEventIdx | kNetMac | kNetMtu | kNetStatus | kNetChecksum;
  if (options.queue_pairs > 1) wanted |= kNetControlQueue | kNetMultiqueue;
  Result<uint64_t> features = s.transport.negotiate(wanted);
  if (!features) return features.error();
  s.features = *features;

  if ((s.features & kNetMac) != 0) {
    if (Status r = s.transport.read_device_config(kConfigMac, s.mac.bytes, 6); !r) return r.error();
  } else {
    // No address from the device: a locally administered one from where it sits.
    s.mac = net::MacAddress::Local(0xb0000000u | (uint32_t{f.address.bus} << 8) | (f.address.device << 3) |
                                   f.address.function);
  }
  uint32_t device_mtu = s.mtu;
  if ((s.features & kNetMtu) != 0) {
    uint16_t mtu = 0;
    if (Status r = s.transport.read_device_config(kConfigMtu, &mtu, 2); !r) return r.error();
    // The device's word: frames up to it may come (buffers hold them), and
    // ours stay within it (the stack's MTU, at most kMaxMtu).
    if (mtu >= kMinMtu) {
      device_mtu = mtu;
      s.mtu = std::min<uint32_t>(mtu, kMaxMtu);
    }
  }
  s.rx_buffer_bytes = kNetHeaderBytes + net::kEthernetHeaderBytes + device_mtu;

  const bool multiqueue = (s.features & (kNetMultiqueue | kNetControlQueue)) == (kNetMultiqueue | kNetControlQueue);
  if (multiqueue) {
    uint16_t most = 1;
    if (Status r = s.transport.read_device_config(kConfigMaxPairs, &most, 2); !r) return r.error();
    // Queues 0..2*pairs-1 and the control queue must all exist.
    const uint32_t reachable = s.transport.queue_count() > 0 ? (s.transport.queue_count() - 1u) / 2 : 0;
    s.device_pairs = std::clamp<uint32_t>(std::min<uint32_t>(most, reachable), 1, 0x8000);
  }
  s.pairs = std::min(options.queue_pairs, s.device_pairs);
  if (s.pairs < options.queue_pairs)
    std::printf("virtio-net: %u queue pairs asked for, the device offers %u%s: the stack steers the rest\n",
                options.queue_pairs, s.device_pairs, multiqueue ? "" : " (no multiqueue)");

  s.queue_pairs.reset(new (std::nothrow) Pair[s.pairs]);
  if (!s.queue_pairs) return Error(Errc::kExhausted, "virtio-net: no memory for the queues");
  if (Status r = s.setup_interrupts(options, map); !r) return r.error();
  for (uint32_t q = 0; q < s.pairs; ++q) {
    Pair& p = s.queue_pairs[q];
    const uint16_t vector = p.interrupts ? static_cast<uint16_t>(q) : kNoVector;
    if (Status r = s.setup_ring(p.rx, static_cast<uint16_t>(2 * q), options.queue_size, vector, options.queue_size); !r)
      return r.error();
    if (Status r = s.setup_ring(p.tx, static_cast<uint16_t>(2 * q + 1), options.queue_size, kNoVector,
                                options.queue_size);
        !r)
      return r.error();
    if ((s.features & kNetChecksum) != 0) {
      p.tx.headers.reset(new (std::nothrow) uint8_t[std::size_t{kNetHeaderBytes} * p.tx.queue.size()]());
      if (!p.tx.headers) return Error(Errc::kExhausted, "virtio-net: no memory for transmit headers");
    }
    // Sent chains are reclaimed when the core next transmits or polls.
    p.tx.queue.disable_interrupts();
    // Polling until the core first goes to sleep.
    p.rx.queue.disable_interrupts();
    (void)s.refill(p);
    if (p.rx.slots.none_in_use())
      return Error(Errc::kExhausted, "virtio-net: no memory for receive buffers");
  }
  Status control = s.pairs > 1 ? s.setup_control() : Status{};
  if (control) s.transport.driver_ok();
  for (uint32_t q = 0; control && q < s.pairs; ++q) s.transport.notify(static_cast<uint16_t>(2 * q));
  if (s.pairs > 1) {
    // No control queue (the device's is past what the transport keeps, or
    // no memory), or no agreement: one pair.
    if (Status r = control ? s.set_pairs(s.pairs, options.control_wait_ns) : control; !r) {
      // A device that refuses, or answers late (and might switch to N
      // pairs after all, into rings nobody polls), starts over: reset (the
      // state's destructor) and opened for one pair, the stack steering.
      char why[kErrorTextSize];
      std::printf("%s; opening it again for one queue pair\n", r.error().describe(why, sizeof why));
      state.reset();
      VirtioNetOptions one = options;
      one.queue_pairs = 1;
      return Open(config, f, map, one);
    }
  }
  return VirtioNet(std::move(state));
}

VirtioNet::VirtioNet(std::unique_ptr<State> state) : state_(std::move(state)) {}
VirtioNet::VirtioNet(VirtioNet&&) noexcept = default;
VirtioNet& VirtioNet::operator=(VirtioNet&&) noexcept = default;
VirtioNet::~VirtioNet() = default;

net::MacAddress VirtioNet::mac() const { return state_->mac; }
uint32_t VirtioNet::mtu() const { return state_->mtu; }
uint32_t VirtioNet::queue_count() const { return state_ ? state_->pairs : 0; }
uint64_t VirtioNet::features() const { return state_->features; }
uint32_t VirtioNet::device_queue_pairs() const { return state_->device_pairs; }
uint32_t VirtioNet::interrupt_queues() const { return state_->interrupt_queues; }
bool VirtioNet::checksum_offload() const { return (state_->features & kNetChecksum) != 0; }

Status VirtioNet::transmit(uint32_t queue, net::IOBuf frame) {
  State& s = *state_;
  EBB_CHECK(queue < s.pairs, "virtio-net: no queue %u", queue);
  Pair& p = s.queue_pairs[queue];
  const std::size_t length = frame.length();
  if (length < net::kEthernetHeaderBytes || length > s.mtu + net::kEthernetHeaderBytes) {
    __atomic_fetch_add(&p.tx_counters.errors, 1, __ATOMIC_RELAXED);
    return Error(Errc::kInvalidArgument, "virtio-net: a frame too long or too short", static_cast<int64_t>(length));
  }
  Buffer ranges[kMaxTransmitRanges + 1];
  ranges[0] = {s.dma(kZeroHeader), kNetHeaderBytes};
  uint32_t count = 1;
  bool reachable = true;
  frame.for_each_range([&](const uint8_t* data, std::size_t n) {
    if (count <= kMaxTransmitRanges) ranges[count] = {s.dma(data), static_cast<uint32_t>(n)};
    reachable &= count > kMaxTransmitRanges || ranges[count].address != kNoDeviceAddress;
    ++count;
  });
  bool copied = false;
  if (count > kMaxTransmitRanges + 1 || count > p.tx.queue.size() || !reachable) {
    // Too many pieces, or bytes the device cannot see (a fiber's stack):
    // one copy, in memory it can.
    Result<net::IOBuf> flat = net::IOBuf::Create(length);
    if (!flat) {
      __atomic_fetch_add(&p.tx_counters.errors, 1, __ATOMIC_RELAXED);
      return flat.error();
    }
    uint8_t* to = flat->push_back(length);
    (void)frame.copy_out(0, to, length);
    frame = std::move(*flat);
    ranges[1] = {s.dma(to), static_cast<uint32_t>(length)};
    count = 2;
    copied = true;
  }

  p.tx_lock.lock();
  State::reclaim(p.tx);
  VirtioNetCounters& c = p.tx_counters;
  if (p.tx.slots.full() || p.tx.queue.free_descriptors() < count) {
    ++c.drops_full;
    p.tx_lock.unlock();
    return Error(Errc::kExhausted, "virtio-net: the transmit ring is full");
  }
  const ChecksumPlace place = p.tx.headers ? checksum_place(frame) : ChecksumPlace{};
  void* cookie = p.tx.slots.keep(std::move(frame));
  if (place.start != 0) {
    // This chain's own header: the device sums from start and stores there.
    uint8_t* header = p.tx.headers.get() + std::size_t{BufferSlots::slot_of(cookie)} * kNetHeaderBytes;
    std::memset(header, 0, kNetHeaderBytes);
    header[0] = kHeaderNeedsChecksum;
    std::memcpy(header + kHeaderChecksumStart, &place.start, 2);   // little-endian, as x86
    std::memcpy(header + kHeaderChecksumOffset, &place.offset, 2);
    ranges[0] = {s.dma(header), kNetHeaderBytes};
  }
  if (Status added = p.tx.queue.add({ranges, count}, {}, cookie); !added) {
    (void)p.tx.slots.release(cookie);
    ++c.drops_full;
    p.tx_lock.unlock();
    return added;
  }
  const bool notify = p.tx.queue.publish();
  c.tx_offloaded += place.start != 0 ? 1 : 0;
  ++c.frames_out;
  c.bytes_out += length;
  c.tx_copied += copied ? 1 : 0;
  p.tx_lock.unlock();
  if (notify) s.transport.notify(p.tx.index);
  return {};
}

bool VirtioNet::next_frame(uint32_t queue, net::IOBuf* frame) {
  State& s = *state_;
  Pair& p = s.queue_pairs[queue];
  for (;;) {
    std::optional<Completion> done = p.rx.queue.take();
    if (!done) return false;
    net::IOBuf buffer = p.rx.slots.release(done->cookie);
    // written is 0 for a used entry that claimed more than the buffer.
    if (done->written < kNetHeaderBytes + net::kEthernetHeaderBytes) {
      ++p.rx_counters.bad_frames;
      continue;
    }
    buffer.trim_back(s.rx_buffer_bytes - done->written);
    buffer.trim_front(kNetHeaderBytes);
    ++p.rx_counters.frames_in;
    p.rx_counters.bytes_in += buffer.length();
    *frame = std::move(buffer);
    return true;
  }
}

void VirtioNet::after_receive(uint32_t queue, std::size_t received) {
  State& s = *state_;
  Pair& p = s.queue_pairs[queue];
  if (received != 0 || !p.rx.slots.full()) {
    if (s.refill(p)) s.transport.notify(p.rx.index);
  }
  // Busy: poll rather than take interrupts until the core sleeps again.
  if (received != 0 && p.rx_armed) {
    p.rx.queue.disable_interrupts();
    p.rx_armed = false;
  }
  // Sent chains go back while the core is here anyway.
  if (p.tx_lock.try_lock()) {
    State::reclaim(p.tx);
    p.tx_lock.unlock();
  }
}

bool VirtioNet::arm(uint32_t queue) {
  Pair& p = state_->queue_pairs[queue];
  if (!p.interrupts) return true;
  // No buffer with the device (refills found no memory): no frame, so no
  // interrupt, can come; keep polling, which retries the refill.
  if (p.rx.slots.none_in_use()) return true;
  ++p.rx_counters.interrupts_armed;
  p.rx_armed = true;
  return p.rx.queue.enable_interrupts();
}

VirtioNetCounters VirtioNet::counters(uint32_t queue) const {
  const Pair& p = state_->queue_pairs[queue];
  VirtioNetCounters sum = p.rx_counters;
  sum += p.tx_counters;
  sum.bad_frames += p.rx.queue.stats().bad_used_entries + p.rx.queue.stats().bad_used_indexes;
  return sum;
}

VirtioNetCounters VirtioNet::counters() const {
  VirtioNetCounters sum;
  for (uint32_t q = 0; q < queue_count(); ++q) sum += counters(q);
  return sum;
}

QueueStats VirtioNet::rx_stats(uint32_t queue) const { return state_->queue_pairs[queue].rx.queue.stats(); }
QueueStats VirtioNet::tx_stats(uint32_t queue) const { return state_->queue_pairs[queue].tx.queue.stats(); }

}  // namespace ebb::virtio
