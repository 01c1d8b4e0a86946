#pragma once
// Stack<Device>: the own TCP/IP stack running on every core of the runtime
// over one NetDevice — an Engine per core, fed by the device's queues and
// the runtime's timers. The apps' side is the connection API: listen(),
// connect(), bind_udp() hand out the same Connection and DatagramSocket as
// the Linux-socket backend, so an app is written once for both.
//
//   auto tap = drivers::TapDevice::Open("tap0").value();
//   StackConfig config;
//   config.interface = {.ip = ..., .prefix = 24};
//   Stack<drivers::TapDevice>* stack = Stack<drivers::TapDevice>::Start(std::move(tap), config).block().value();
//   stack->listen(7, [](Connection c) { ... }).block();
//
// Devices that can interrupt (an arm(queue) member, virtio-net natively)
// are polled while their core is busy and wake it from sleep when idle;
// others are polled without pause (the wire) or watched (TAP's fds).
//
// Steering: every packet of a flow belongs to the core that flow_core()
// picks. Core q reads device queue q (for q < queue_count()); a frame whose
// flow belongs to another core is handed to it as an event, so a device
// with one queue is spread over every core in software. ARP goes to every
// core (each keeps its own table); DHCP replies go to core 0, where the
// client runs. Core c transmits on queue c % queue_count(): a device with
// fewer queues than cores must take transmits from several cores at once
// (TAP and the wire do).
//
// The template is thin on purpose: device calls are direct (no virtual call
// on the packet path) and everything else is the Engine, compiled once.

#include <concepts>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "ebbs/net/device.h"
#include "ebbs/net/stack/dhcp.h"
#include "ebbs/net/stack/engine.h"
#include "ebbs/net/stack/flow.h"
#include "ebbs/net/stack/wire_format.h"
#include "runtime/idle_handler.h"
#include "runtime/submit.h"
#include "runtime/timer.h"

namespace ebb::net::stack {

// Which core a frame belongs to, by the flow it carries (stack.h above).
// kAllCores: every core gets a copy (ARP).
inline constexpr CoreId kAllCores = kNoCore - 1;
CoreId steer_frame(const IOBuf& frame, uint32_t cores);

template <NetDevice Device>
class Stack {
 public:
  // Starts an engine on every core over `device`. From a core; the Stack
  // lives until stop() completes (then delete it).
  static Future<Stack*> Start(Device device, const StackConfig& config) {
    auto* stack = new Stack(std::move(device), config);
    return submit_to_all([stack] { return stack->start_here(); })
        .then([stack](std::vector<Result<void>> started) -> Result<Stack*> {
          for (const Result<void>& r : started)
            if (!r) return r.error();  // leaked on purpose: cores may hold it
          return stack;
        });
  }

  // Stops every core's engine (connections are reset). From a core.
  Future<void> stop() {
    return submit_to_all([this] { stop_here(); }).then([](std::vector<Result<void>>) {});
  }

  // Accepts connections to `port` on every core; on_accept (copied to each
  // core) runs on the core that owns the new connection.
  template <class F>
  Future<void> listen(uint16_t port, F on_accept, ConnectionOptions options = {}) {
    return on_every_core([this, port, on_accept, options]() -> Status {
      return here().engine.listen(port, Function<void(Connection)>(F(on_accept)), options);
    });
  }
  // Binds `port` on every core; handler (copied) gets each core's datagrams.
  template <class F>
  Future<void> bind_udp(uint16_t port, F handler) {
    return on_every_core([this, port, handler]() -> Status {
      Result<DatagramSocket*> s = here().engine.bind_udp(port, DatagramHandler(F(handler)));
      if (!s) return s.error();
      return {};
    });
  }
  // A connection from the calling core.
  Future<Connection> connect(Endpoint peer, const ConnectionOptions& options = {}) {
    PerCore& c = here();
    Future<Connection> result = c.engine.connect(peer, options);
    after_work(c);
    return result;
  }
  // New addresses on every core (DHCP, or a test).
  Future<void> configure(const InterfaceConfig& interface) {
    return on_every_core([this, interface]() -> Status {
      here().engine.configure(interface);
      return {};
    });
  }

  // Leases an address with DHCP on core 0 and keeps it (renewals, and a new
  // lease after an expiry); every core's engine follows the address. The
  // Future completes once the first lease is applied everywhere. On core 0.
  Future<DhcpLease> lease(DhcpOptions options = {}) {
    if (this_core() != 0)
      return make_failed_future<DhcpLease>(Error(Errc::kNotOnCore, "Stack::lease: on core 0"));
    PerCore& c = here();
    if (c.dhcp != nullptr)
      return make_failed_future<DhcpLease>(Error(Errc::kAlreadyExists, "Stack::lease: already leasing"));
    c.dhcp = std::make_unique<DhcpClient>(c.engine, std::move(options));
    c.dhcp->on_change([this](const DhcpLease* lease) {
      InterfaceConfig interface;
      if (lease != nullptr) interface = {.ip = lease->ip, .prefix = lease->prefix, .gateway = lease->gateway};
      for (CoreId core = 1; core < cores_; ++core)
        (void)spawn_remote(core, [this, interface] { here().engine.configure(interface); });
    });
    Future<DhcpLease> leased = c.dhcp->start();
    after_work(c);
    // Done once every core has the address (their configure events run
    // before the submits below on each core: one sender, one order).
    return leased.then([this](DhcpLease lease) {
      return submit_to_all([] {}).then([lease](std::vector<Result<void>>) { return lease; });
    });
  }

  // This core's engine (counters, ping, tests).
  Engine& engine() { return here().engine; }
  Future<StackCounters> counters() {
    return submit_to_all([this] { return here().engine.counters(); })
        .then([](std::vector<Result<StackCounters>> all) {
          StackCounters sum;
          for (const Result<StackCounters>& c : all)
            if (c) sum += c.value();
          return sum;
        });
  }

 private:
  struct PerCore {
    PerCore(const StackConfig& config, const Device& device, CoreId core, uint32_t cores)
        : engine(config, device.mac(), device.mtu(), Clock(), core, cores) {}
    Engine engine;
    TimerId timer = 0;
    uint64_t timer_at = 0;
    IdleHandlerId poller = 0;
    bool flush_queued = false;
    std::unique_ptr<DhcpClient> dhcp;  // core 0, after lease()
  };

  Stack(Device device, const StackConfig& config)
      : device_(std::move(device)), config_(with_device(config, device_)), cores_(num_cores()),
        per_core_(num_cores()) {}

  // What the device does for the stack: checksums of what it sends.
  static StackConfig with_device(StackConfig config, const Device& device) {
    if constexpr (requires { { device.checksum_offload() } -> std::same_as<bool>; })
      config.checksum_offload = device.checksum_offload();
    return config;
  }

  PerCore& here() { return *per_core_[this_core()]; }
  uint32_t tx_queue() const { return this_core() % device_.queue_count(); }

  Status start_here() {
    const CoreId core = this_core();
    per_core_[core] = std::make_unique<PerCore>(config_, device_, core, cores_);
    PerCore& c = *per_core_[core];
    c.engine.set_wakeup([this, &c] {
      if (c.flush_queued) return;
      c.flush_queued = true;
      spawn_local([this, &c] {
        c.flush_queued = false;
        after_work(c);
      });
    });
    if (core >= device_.queue_count()) return {};
    const uint32_t queue = core;
    if constexpr (requires(Device& d) { d.watch(queue, Function<void()>()); }) {
      return device_.watch(queue, [this, queue] { poll(queue); });
    } else if constexpr (requires(Device& d) { { d.arm(queue) } -> std::same_as<bool>; }) {
      // Polls under load; when the core runs dry the device's interrupt is
      // armed and the core sleeps until it comes.
      Result<IdleHandlerId> id = add_idle_handler([this, queue] { return poll(queue) > 0; },
                                                  [this, queue] { return device_.arm(queue); });
      if (!id) return id.error();
      c.poller = *id;
      return {};
    } else {
      Result<IdleHandlerId> id = add_idle_handler([this, queue] { return poll(queue) > 0; });
      if (!id) return id.error();
      c.poller = *id;
      return {};
    }
  }

  void stop_here() {
    const CoreId core = this_core();
    if (!per_core_[core]) return;
    PerCore& c = *per_core_[core];
    if (core < device_.queue_count()) {
      if constexpr (requires(Device& d) { d.unwatch(0u); }) device_.unwatch(core);
      else if (c.poller != 0) remove_idle_handler(c.poller);
    }
    if (c.timer != 0) cancel_timer(c.timer);
    c.engine.set_wakeup({});
    if (c.dhcp) c.dhcp->stop();
    c.engine.flush([this](IOBuf frame) { (void)device_.transmit(tx_queue(), std::move(frame)); });
    c.dhcp.reset();
    per_core_[core].reset();  // the engine resets its connections
  }

  // Reads a batch from `queue` (this core's) and hands each frame to its core.
  std::size_t poll(uint32_t queue) {
    PerCore& c = here();
    const std::size_t n = device_.receive(
        queue,
        [this, &c](IOBuf frame) {
          const CoreId to = cores_ == 1 ? 0 : steer_frame(frame, cores_);
          if (to == this_core()) {
            c.engine.receive(std::move(frame));
          } else if (to == kAllCores) {
            for (CoreId other = 0; other < cores_; ++other) {
              if (other == this_core()) continue;
              Result<IOBuf> copy = frame.clone();
              if (copy) hand_to(other, std::move(*copy));
            }
            c.engine.receive(std::move(frame));
          } else {
            hand_to(to, std::move(frame));
          }
        },
        kBatch);
    if (n > 0) after_work(c);
    return n;
  }

  void hand_to(CoreId core, IOBuf frame) {
    (void)spawn_remote(core, [this, frame = std::move(frame)]() mutable {
      PerCore& c = here();
      c.engine.receive(std::move(frame));
      after_work(c);
    });
  }

  // Sends what the engine queued, and keeps a timer for its next deadline.
  void after_work(PerCore& c) {
    const uint32_t queue = tx_queue();
    c.engine.flush([this, &c, queue](IOBuf frame) {
      if (!device_.transmit(queue, std::move(frame))) ++c.engine.counters().device_full;
    });
    uint64_t deadline = c.engine.next_deadline();
    if (c.dhcp) {
      const uint64_t d = c.dhcp->next_deadline();
      if (d != 0 && (deadline == 0 || d < deadline)) deadline = d;
    }
    if (deadline == 0 || (c.timer_at != 0 && c.timer_at <= deadline)) return;
    if (c.timer != 0) cancel_timer(c.timer);
    const uint64_t now = c.engine.now();
    c.timer_at = deadline;
    Result<TimerId> timer = add_timer(std::chrono::nanoseconds(deadline > now ? deadline - now : 0),
                                      [this, &c] {
                                        c.timer = 0;
                                        c.timer_at = 0;
                                        c.engine.run_timers();
                                        if (c.dhcp) c.dhcp->run_timers();
                                        after_work(c);
                                      });
    c.timer = timer ? *timer : 0;
    if (!timer) c.timer_at = 0;
  }

  template <class F>
  Future<void> on_every_core(F fn) {
    return submit_to_all([this, fn]() -> Status {
             Status s = F(fn)();
             after_work(here());
             return s;
           })
        .then([](std::vector<Result<void>> all) -> Result<void> {
          for (const Result<void>& r : all)
            if (!r) return r.error();
          return {};
        });
  }

  static constexpr std::size_t kBatch = 64;
  Device device_;
  const StackConfig config_;
  const uint32_t cores_;
  std::vector<std::unique_ptr<PerCore>> per_core_;
};

}  // namespace ebb::net::stack
