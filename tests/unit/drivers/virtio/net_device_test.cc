// VirtioNet against a virtio-net device played by the test: the PCI
// function and its registers (fake_virtio_pci.h), the rings read and written
// as a device does (fake_device.h). What QEMU's device cannot be made to do
// is played here: frames too short or too long for their buffer, used
// entries naming no buffer, a full transmit ring, fewer queues than asked.
// Each time the driver counts it, drops it, and keeps going.

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "drivers/virtio/net_device.h"
#include "tests/unit/drivers/virtio/fake_device.h"
#include "tests/unit/drivers/virtio/fake_virtio_pci.h"

namespace ebb::virtio {
namespace {

using pci::testing::FakeConfigSpace;
using testing::add_virtio_net;
using testing::g_bar4;
using testing::kAt;
using testing::map_bar4;

constexpr uint16_t kQueueSize = 16;
constexpr uint32_t kRxBuffer = kNetHeaderBytes + net::kEthernetHeaderBytes + 1500;
const uint8_t kMac[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};

// The driver's device addresses are its pointers here; the first two it
// asks for in Open are pair 0's receive and transmit rings.
std::vector<const void*> g_translated;
uint64_t record(const void* p) {
  g_translated.push_back(p);
  return reinterpret_cast<uint64_t>(p);
}

template <class T>
void put(uint32_t offset, T value) {
  std::memcpy(g_bar4 + offset, &value, sizeof value);
}

struct Received {
  std::vector<std::string> frames;
  void operator()(net::IOBuf frame) { frames.push_back(frame.to_string()); }
};

class VirtioNetTest : public ::testing::Test {
 protected:
  // A device offering VERSION_1 (bit 32: bit 0 of the high word), CSUM
  // (bit 0 of the low word), MAC and EVENT_IDX; the feature words read alike
  // for both selects, so bits 5 and 29 of the high word are offered too
  // (nothing the driver asks for).
  void SetUp() override {
    add_virtio_net(config_);
    std::memset(g_bar4, 0, sizeof g_bar4);
    put<uint32_t>(0x04, 1u | 1u << 5 | 1u << 29);  // device_feature
    put<uint16_t>(0x12, 3);                         // num_queues: one pair and a control queue
    put<uint16_t>(0x18, kQueueSize);                // queue_size (every queue)
    std::memcpy(g_bar4 + 0x2000, kMac, 6);          // device config: mac
    g_translated.clear();
  }

  Result<VirtioNet> open(uint32_t pairs = 1) {
    VirtioNetOptions options;
    options.queue_pairs = pairs;
    options.control_wait_ns = 20'000'000;  // the fake never answers: no need to wait a second
    options.queue_size = kQueueSize;
    options.dma = &record;
    return VirtioNet::Open(config_, pci::describe(config_, kAt), &map_bar4, options);
  }

  // The device's side of pair 0, once Open laid the rings out.
  void attach() {
    ASSERT_GE(g_translated.size(), 2u);
    auto* rx = static_cast<uint8_t*>(const_cast<void*>(g_translated[0]));
    auto* tx = static_cast<uint8_t*>(const_cast<void*>(g_translated[1]));
    rx_.attach(rx, reinterpret_cast<uint64_t>(rx), kQueueSize, true);
    tx_.attach(tx, reinterpret_cast<uint64_t>(tx), kQueueSize, true);
  }

  // Fills the next receive buffer with the header and `frame`; completes it
  // claiming `length` bytes written (the header and the frame by default).
  void deliver(const std::string& frame, int64_t length = -1) {
    std::optional<fake::Chain> chain = rx_.pop();
    ASSERT_TRUE(chain.has_value());
    ASSERT_EQ(chain->writable.size(), 1u);
    ASSERT_EQ(chain->writable[0].length, kRxBuffer);
    auto* buffer = reinterpret_cast<uint8_t*>(chain->writable[0].address);
    std::memset(buffer, 0, kNetHeaderBytes);
    std::memcpy(buffer + kNetHeaderBytes, frame.data(), frame.size());
    rx_.complete(chain->head,
                 length >= 0 ? static_cast<uint32_t>(length) : static_cast<uint32_t>(kNetHeaderBytes + frame.size()));
  }

  static std::string frame_of(std::size_t bytes, char fill) {
    std::string f(bytes, fill);
    std::memcpy(f.data(), kMac, 6);
    return f;
  }

  FakeConfigSpace config_;
  fake::FakeDevice rx_, tx_;
};

TEST_F(VirtioNetTest, OpensWithTheDevicesAddressAndFillsTheReceiveRing) {
  Result<VirtioNet> nic = open();
  ASSERT_TRUE(nic.ok());
  EXPECT_EQ(std::memcmp(nic->mac().bytes, kMac, 6), 0);
  EXPECT_EQ(nic->mtu(), 1500u);
  EXPECT_EQ(nic->queue_count(), 1u);
  EXPECT_EQ(nic->features() & (kVersion1 | kNetMac | kRingEventIdx), kVersion1 | kNetMac | kRingEventIdx);
  EXPECT_EQ(nic->features() & (kNetMultiqueue | kNetControlQueue), 0u);
  EXPECT_TRUE(nic->checksum_offload());  // offered (bit 0) and taken
  EXPECT_EQ(g_bar4[0x14] & kStatusDriverOk, kStatusDriverOk);
  attach();
  int buffers = 0;
  while (std::optional<fake::Chain> c = rx_.pop()) {
    EXPECT_TRUE(c->readable.empty());
    ASSERT_EQ(c->writable.size(), 1u);
    EXPECT_EQ(c->writable[0].length, kRxBuffer);
    ++buffers;
  }
  EXPECT_EQ(buffers, kQueueSize);
}

TEST_F(VirtioNetTest, ReceivedFramesGoUpWithoutTheHeaderAndBuffersAreReplaced) {
  Result<VirtioNet> nic = open();
  ASSERT_TRUE(nic.ok());
  attach();
  const std::string first = frame_of(60, 'a'), second = frame_of(1514, 'b');
  deliver(first);
  deliver(second);
  Received got;
  EXPECT_EQ(nic->receive(0, got, 64), 2u);
  ASSERT_EQ(got.frames.size(), 2u);
  EXPECT_EQ(got.frames[0], first);
  EXPECT_EQ(got.frames[1], second);
  // Two fresh buffers took the used ones' places: the ring is full again.
  int available = 0;
  while (rx_.pop()) ++available;
  EXPECT_EQ(available, kQueueSize);
  EXPECT_EQ(nic->counters(0).frames_in, 2u);
  EXPECT_EQ(nic->counters(0).bytes_in, first.size() + second.size());
}

TEST_F(VirtioNetTest, ReceiveHandsUpAtMostMax) {
  Result<VirtioNet> nic = open();
  ASSERT_TRUE(nic.ok());
  attach();
  for (int i = 0; i < 5; ++i) deliver(frame_of(64, static_cast<char>('a' + i)));
  Received got;
  EXPECT_EQ(nic->receive(0, got, 3), 3u);
  EXPECT_EQ(nic->receive(0, got, 3), 2u);
  ASSERT_EQ(got.frames.size(), 5u);
  EXPECT_EQ(got.frames[4][6], 'e');
}

// A hostile or broken device: a frame shorter than the header and an
// Ethernet header, a length past the buffer, a used entry naming no chain.
// Each is counted and dropped; the buffer comes back; good frames still go up.
TEST_F(VirtioNetTest, BadCompletionsAreCountedAndTheQueueKeepsServing) {
  Result<VirtioNet> nic = open();
  ASSERT_TRUE(nic.ok());
  attach();
  deliver(frame_of(60, 'x'), kNetHeaderBytes + 10);  // too short for an Ethernet header
  deliver(frame_of(60, 'y'), kRxBuffer + 1);         // more than the buffer holds
  rx_.complete(kQueueSize + 3, 100);                 // no such chain
  const std::string good = frame_of(100, 'g');
  deliver(good);
  Received got;
  EXPECT_EQ(nic->receive(0, got, 64), 1u);
  ASSERT_EQ(got.frames.size(), 1u);
  EXPECT_EQ(got.frames[0], good);
  EXPECT_EQ(nic->counters(0).bad_frames, 3u);
  EXPECT_EQ(nic->rx_stats(0).bad_used_lengths, 1u);
  EXPECT_EQ(nic->rx_stats(0).bad_used_entries, 1u);
  // Every buffer the device handed back is replaced: the ring stays full.
  int available = 0;
  while (rx_.pop()) ++available;
  EXPECT_EQ(available, kQueueSize);
}

TEST_F(VirtioNetTest, TransmitsTheChainsRangesBehindAZeroHeader) {
  Result<VirtioNet> nic = open();
  ASSERT_TRUE(nic.ok());
  attach();
  const std::string head = frame_of(14, 'h'), body(200, 'p');
  net::IOBuf frame = net::IOBuf::CopyOf(head).value();
  frame.append(net::IOBuf::CopyOf(body).value());
  ASSERT_EQ(frame.link_count(), 2u);
  ASSERT_TRUE(nic->transmit(0, std::move(frame)).ok());
  std::optional<fake::Chain> c = tx_.pop();
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->writable.empty());
  ASSERT_EQ(c->readable.size(), 3u);
  ASSERT_EQ(c->readable[0].length, kNetHeaderBytes);
  const auto* header = reinterpret_cast<const uint8_t*>(c->readable[0].address);
  for (uint32_t i = 0; i < kNetHeaderBytes; ++i) EXPECT_EQ(header[i], 0) << i;
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(c->readable[1].address), c->readable[1].length), head);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(c->readable[2].address), c->readable[2].length), body);
  tx_.complete(c->head, 0);
  EXPECT_EQ(nic->counters(0).frames_out, 1u);
  EXPECT_EQ(nic->counters(0).bytes_out, head.size() + body.size());
  EXPECT_EQ(nic->counters(0).tx_copied, 0u);
}

TEST_F(VirtioNetTest, AFullTransmitRingRefusesUntilTheDeviceSendsAndBadFramesAreRefused) {
  Result<VirtioNet> nic = open();
  ASSERT_TRUE(nic.ok());
  attach();
  // Two descriptors a frame (header and one range): 8 fit in 16.
  int sent = 0;
  Status s;
  while ((s = nic->transmit(0, net::IOBuf::CopyOf(frame_of(64, 'f')).value())).ok()) ++sent;
  EXPECT_EQ(sent, kQueueSize / 2);
  EXPECT_EQ(s.error().code(), Errc::kExhausted);
  EXPECT_EQ(nic->counters(0).drops_full, 1u);
  // The device sends them; the next transmit reclaims the ring.
  while (std::optional<fake::Chain> c = tx_.pop()) tx_.complete(c->head, 0);
  EXPECT_TRUE(nic->transmit(0, net::IOBuf::CopyOf(frame_of(64, 'g')).value()).ok());

  EXPECT_EQ(nic->transmit(0, net::IOBuf::CopyOf(std::string(10, 's')).value()).error().code(),
            Errc::kInvalidArgument);
  EXPECT_EQ(nic->transmit(0, net::IOBuf::CopyOf(frame_of(1515, 'l')).value()).error().code(),
            Errc::kInvalidArgument);
  EXPECT_EQ(nic->counters(0).errors, 2u);
}

// The device offers CSUM (bit 0 of the low feature word, as set up): an
// unfragmented IPv4 TCP or UDP frame goes out behind a header of its own
// that tells the device where to sum and where to store; anything else
// (a fragment, ICMP, ARP) behind the zero header.
TEST_F(VirtioNetTest, TheDeviceFinishesTcpAndUdpChecksumsWhenItOffersTo) {
  Result<VirtioNet> nic = open();
  ASSERT_TRUE(nic.ok());
  ASSERT_TRUE(nic->checksum_offload());
  attach();
  auto ipv4 = [](uint8_t protocol, uint8_t ihl_words, uint16_t fragment) {
    std::string f = frame_of(14 + ihl_words * 4 + 40, 'd');
    f[12] = 0x08, f[13] = 0x00;
    f[14] = static_cast<char>(0x40 | ihl_words);
    f[20] = static_cast<char>(fragment >> 8), f[21] = static_cast<char>(fragment);
    f[23] = static_cast<char>(protocol);
    return f;
  };
  struct Case {
    std::string frame;
    uint8_t flags;
    uint16_t start, offset;
  };
  const Case cases[] = {
      {ipv4(6, 5, 0x4000), 1, 34, 16},   // TCP, don't fragment
      {ipv4(17, 5, 0), 1, 34, 6},        // UDP
      {ipv4(6, 6, 0), 1, 38, 16},        // TCP behind IP options
      {ipv4(17, 5, 0x2000), 0, 0, 0},    // the first fragment of a datagram
      {ipv4(17, 5, 0x0010), 0, 0, 0},    // a later one
      {ipv4(1, 5, 0), 0, 0, 0},          // ICMP
      {frame_of(60, 'a'), 0, 0, 0},      // not IPv4
  };
  uint64_t offloaded = 0;
  for (const Case& k : cases) {
    ASSERT_TRUE(nic->transmit(0, net::IOBuf::CopyOf(k.frame).value()).ok());
    std::optional<fake::Chain> c = tx_.pop();
    ASSERT_TRUE(c.has_value());
    ASSERT_EQ(c->readable[0].length, kNetHeaderBytes);
    const auto* h = reinterpret_cast<const uint8_t*>(c->readable[0].address);
    uint16_t start = 0, offset = 0;
    std::memcpy(&start, h + 6, 2);
    std::memcpy(&offset, h + 8, 2);
    EXPECT_EQ(h[0], k.flags) << int(k.frame[23]);
    EXPECT_EQ(start, k.start);
    EXPECT_EQ(offset, k.offset);
    offloaded += k.flags;
    tx_.complete(c->head, 0);
  }
  EXPECT_EQ(nic->counters(0).tx_offloaded, offloaded);
}

TEST_F(VirtioNetTest, AChainOfManyRangesIsCopiedIntoOne) {
  Result<VirtioNet> nic = open();
  ASSERT_TRUE(nic.ok());
  attach();
  net::IOBuf frame = net::IOBuf::CopyOf(frame_of(14, 'h')).value();
  std::string expected = frame_of(14, 'h');
  for (uint32_t i = 0; i < VirtioNet::kMaxTransmitRanges + 2; ++i) {
    const std::string piece(10, static_cast<char>('a' + i));
    frame.append(net::IOBuf::CopyOf(piece).value());
    expected += piece;
  }
  ASSERT_TRUE(nic->transmit(0, std::move(frame)).ok());
  std::optional<fake::Chain> c = tx_.pop();
  ASSERT_TRUE(c.has_value());
  ASSERT_EQ(c->readable.size(), 2u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(c->readable[1].address), c->readable[1].length), expected);
  EXPECT_EQ(nic->counters(0).tx_copied, 1u);
}

// Four pairs asked of a device without multiqueue: one pair, and the stack
// steers in software.
TEST_F(VirtioNetTest, ADeviceWithoutMultiqueueGetsOnePair) {
  Result<VirtioNet> nic = open(4);
  ASSERT_TRUE(nic.ok());
  EXPECT_EQ(nic->queue_count(), 1u);
  EXPECT_EQ(nic->device_queue_pairs(), 1u);
}

// A multiqueue device (MQ and the control queue offered, 4 pairs) that never
// answers the command setting the pairs: after the wait the driver opens it
// again for one pair (without multiqueue), so that a late answer cannot
// send flows to rings nobody polls.
TEST_F(VirtioNetTest, AMultiqueueDeviceThatDoesNotAnswerGetsOnePair) {
  put<uint32_t>(0x04, 1u | 1u << 5 | 1u << 17 | 1u << 22 | 1u << 29);
  put<uint16_t>(0x12, 9);       // 4 pairs and the control queue
  put<uint16_t>(0x2008, 4);     // max_virtqueue_pairs
  Result<VirtioNet> nic = open(4);
  ASSERT_TRUE(nic.ok());
  EXPECT_EQ(nic->features() & (kNetMultiqueue | kNetControlQueue), 0u);
  EXPECT_EQ(nic->queue_count(), 1u);
  EXPECT_EQ(g_bar4[0x14] & kStatusDriverOk, kStatusDriverOk);
}

// A device with more pairs than the transport keeps doorbells for: its
// control queue (queue 2 x 100) cannot be set up; one pair, not a failure.
TEST_F(VirtioNetTest, ADeviceWithMorePairsThanTheTransportKeepsGetsOnePair) {
  put<uint32_t>(0x04, 1u | 1u << 5 | 1u << 17 | 1u << 22 | 1u << 29);
  put<uint16_t>(0x12, 201);
  put<uint16_t>(0x2008, 100);
  Result<VirtioNet> nic = open(4);
  ASSERT_TRUE(nic.ok());
  EXPECT_EQ(nic->queue_count(), 1u);
  EXPECT_EQ(g_bar4[0x14] & kStatusDriverOk, kStatusDriverOk);
}

TEST_F(VirtioNetTest, ALegacyOnlyOrMissingDeviceIsRefused) {
  FakeConfigSpace empty;
  empty.add(kAt, 0x8086, 0x100e, 0x02, 0x00);  // an e1000
  VirtioNetOptions options;
  Result<VirtioNet> nic = VirtioNet::Open(empty, pci::describe(empty, kAt), &map_bar4, options);
  ASSERT_FALSE(nic.ok());
  EXPECT_STREQ(nic.error().message(), "virtio-net: not a virtio network device");
}

}  // namespace
}  // namespace ebb::virtio
