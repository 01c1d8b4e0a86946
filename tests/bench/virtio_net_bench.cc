// ebb-bench-virtio: what the virtio-net driver adds to a request's path in
// the VM, per frame: a received frame handed up (and its buffer replaced),
// a frame sent (and an earlier one reclaimed). The device is played by the
// tests' fake (tests/unit/drivers/virtio), so this runs hosted, where
// callgrind reaches: deploy/ebbctl bench net counts
//
//   valgrind --tool=callgrind --toggle-collect=ebb_bench_virtio_receive
//            build/release/bin/ebb-bench-virtio --frames N
//
// (and ebb_bench_virtio_transmit) for two N; the difference over the
// difference of N is one frame. The GET's own path through the stack is
// ebb-bench-net's count; in the VM the driver takes the wire's place.

#include <gtest/gtest.h>  // the fake device checks what it reads with EXPECT

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "drivers/virtio/net_device.h"
#include "runtime/runtime.h"
#include "tests/unit/drivers/virtio/fake_device.h"
#include "tests/unit/drivers/virtio/fake_virtio_pci.h"

namespace {

using namespace ebb;
using namespace ebb::virtio;
namespace fake_pci = ebb::virtio::testing;

constexpr uint16_t kQueueSize = 256;

const void* g_rings[2];
int g_translations = 0;
uint64_t identity(const void* p) {
  if (g_translations < 2) g_rings[g_translations] = p;
  ++g_translations;
  return reinterpret_cast<uint64_t>(p);
}

// Holds the frame handed up: freeing it is the stack's work (counted in
// its GETs), done outside the count.
struct Sink {
  net::IOBuf held;
  void operator()(net::IOBuf frame) { held = std::move(frame); }
};

extern "C" __attribute__((noinline)) std::size_t ebb_bench_virtio_receive(VirtioNet& nic, Sink& sink) {
  return nic.receive(0, sink, 1);
}
extern "C" __attribute__((noinline)) bool ebb_bench_virtio_transmit(VirtioNet& nic, net::IOBuf& frame) {
  return nic.transmit(0, std::move(frame)).ok();
}

int run(uint64_t frames) {
  pci::testing::FakeConfigSpace config;
  fake_pci::add_virtio_net(config);
  std::memset(fake_pci::g_bar4, 0, sizeof fake_pci::g_bar4);
  const uint32_t features = 1u | 1u << 5 | 1u << 29;  // VERSION_1 (high word), MAC, EVENT_IDX
  const uint16_t queues = 3, size = kQueueSize;
  std::memcpy(fake_pci::g_bar4 + 0x04, &features, 4);
  std::memcpy(fake_pci::g_bar4 + 0x12, &queues, 2);
  std::memcpy(fake_pci::g_bar4 + 0x18, &size, 2);

  Runtime runtime({.cores = 1});
  auto result = runtime.run_on(0, [&]() -> Status {
    VirtioNetOptions options;
    options.queue_size = kQueueSize;
    options.dma = &identity;
    Result<VirtioNet> nic = VirtioNet::Open(config, pci::describe(config, fake_pci::kAt), &fake_pci::map_bar4, options);
    if (!nic) return nic.error();
    fake::FakeDevice rx, tx;
    auto* rx_block = static_cast<uint8_t*>(const_cast<void*>(g_rings[0]));
    auto* tx_block = static_cast<uint8_t*>(const_cast<void*>(g_rings[1]));
    rx.attach(rx_block, reinterpret_cast<uint64_t>(rx_block), kQueueSize, true);
    tx.attach(tx_block, reinterpret_cast<uint64_t>(tx_block), kQueueSize, true);
    // A GET request's size in, a response's shape out (headers, then the
    // value in a buffer of its own).
    std::string request(90, 'q');
    const std::string headers(66, 'h'), value(32 + 30, 'v');
    Sink sink;
    uint64_t sent = 0;
    for (uint64_t i = 0; i < frames; ++i) {
      std::optional<fake::Chain> chain = rx.pop();
      if (!chain) return Error(Errc::kExhausted, "no receive buffer");
      std::memcpy(reinterpret_cast<uint8_t*>(chain->writable[0].address) + kNetHeaderBytes, request.data(),
                  request.size());
      rx.complete(chain->head, kNetHeaderBytes + static_cast<uint32_t>(request.size()));
      if (ebb_bench_virtio_receive(*nic, sink) != 1) return Error(Errc::kInvalidArgument, "no frame came up");
      sink.held = net::IOBuf();

      // The device has sent the last frame: this transmit reclaims it (and
      // frees it: that counts as the driver's).
      while (std::optional<fake::Chain> c = tx.pop()) tx.complete(c->head, 0);
      net::IOBuf frame = net::IOBuf::CopyOf(headers).value();
      frame.append(net::IOBuf::CopyOf(value).value());
      if (ebb_bench_virtio_transmit(*nic, frame)) ++sent;
    }
    if (sent != frames) return Error(Errc::kExhausted, "transmits refused", static_cast<int64_t>(frames - sent));
    return {};
  });
  if (!result) {
    char why[kErrorTextSize];
    std::fprintf(stderr, "ebb-bench-virtio: %s\n", result.error().describe(why, sizeof why));
    return 1;
  }
  std::printf("ebb-bench-virtio: %" PRIu64 " frames received and %" PRIu64 " sent through VirtioNet\n", frames,
              frames);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t frames = 0;
  if (argc == 3 && std::strcmp(argv[1], "--frames") == 0) frames = std::strtoull(argv[2], nullptr, 10);
  if (frames == 0) {
    std::fprintf(stderr, "usage: ebb-bench-virtio --frames N\n");
    return 2;
  }
  return run(frames);
}
