#pragma once
// StackNetwork<Device>: the Network (network.h) that serves on the own
// TCP/IP stack over a NetDevice — a TAP hosted, virtio-net native — with
// the address given or leased by DHCP.

#include <cstdio>
#include <memory>
#include <string>
#include <utility>

#include "apps/common/network.h"
#include "ebbs/net/stack/stack.h"
#include "runtime/submit.h"

namespace ebb::apps {

inline std::string ip_text(uint32_t ip) {
  char text[16];
  std::snprintf(text, sizeof text, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
  return text;
}

template <class Device>
class StackNetwork final : public Network {
 public:
  using DeviceStack = net::stack::Stack<Device>;

  // Starts the stack on every core over `device`, then leases an address
  // when flags.dhcp. On core 0, in an event that may block.
  static Result<std::unique_ptr<Network>> Start(Device device, const NetworkFlags& flags, std::string device_name) {
    net::stack::StackConfig config;
    config.interface.ip = flags.ip;
    config.interface.prefix = flags.prefix;
    config.interface.gateway = flags.gateway;
    Result<DeviceStack*> stack = DeviceStack::Start(std::move(device), config).block();
    if (!stack) return stack.error();
    if (flags.dhcp) {
      Result<net::stack::DhcpLease> lease = (*stack)->lease().block();
      if (!lease) return lease.error();
    }
    return std::unique_ptr<Network>(new StackNetwork(*stack, std::move(device_name), flags.dhcp));
  }

  Result<uint16_t> listen(uint16_t port, AcceptHandler on_accept, uint32_t) override {
    if (port == 0) port = next_port_++;
    Result<void> l = stack_->listen(port, on_accept).block();
    if (!l) return l.error();
    return port;
  }
  Status bind_udp(uint16_t port, DatagramHandlerFn handler, uint32_t) override {
    return stack_->bind_udp(port, handler).block();
  }
  Future<net::Connection> connect(net::Endpoint peer) override { return stack_->connect(peer); }
  Future<std::vector<NetCoreCounts>> core_counts() override {
    DeviceStack* stack = stack_;
    return submit_to_all([stack] {
             const net::stack::StackCounters& s = stack->engine().counters();
             NetCoreCounts c;
             c.has_packets = true;
             c.packets_in = s.frames_in;
             c.packets_out = s.frames_out;
             c.bytes_in = s.bytes_in;
             c.bytes_out = s.bytes_out;
             return c;
           })
        .then([](std::vector<Result<NetCoreCounts>> all) {
          std::vector<NetCoreCounts> counts;
          for (Result<NetCoreCounts>& c : all) counts.push_back(c ? *c : NetCoreCounts{});
          return counts;
        });
  }
  std::string describe() const override {
    const net::stack::InterfaceConfig& i = interface_;
    std::string text = "own stack on " + device_name_ + ", " + ip_text(i.ip) + "/" + std::to_string(i.prefix);
    if (i.gateway != 0) text += " via " + ip_text(i.gateway);
    if (leased_) text += " (DHCP)";
    return text;
  }
  DeviceStack& stack() { return *stack_; }

 private:
  // On core 0, once the address is known (describe() may run anywhere).
  StackNetwork(DeviceStack* stack, std::string device_name, bool leased)
      : stack_(stack), device_name_(std::move(device_name)), interface_(stack->engine().interface()),
        leased_(leased) {}

  DeviceStack* stack_;  // runs until the process ends
  std::string device_name_;
  net::stack::InterfaceConfig interface_;  // as started (a DHCP renewal may change it later)
  bool leased_;
  uint16_t next_port_ = 10000;
};

}  // namespace ebb::apps
