// ebb-bench-net, the own stack's part: a memcached GET request frame in, the
// response frame out, through drivers/wire, the stack's Ethernet, IPv4 and
// TCP, ebb-memcached's session and its store.
//
//   build/release/bin/ebb-bench-net --requests N    exactly N GETs, then a summary
//   build/release/bin/ebb-bench-net --benchmark_filter=StackGet
//
// Instructions per GET: run --requests under callgrind twice and divide the
// difference (deploy/ebbctl bench net does it). With
// --toggle-collect=ebb_bench_serve_frame only the server's side counts: the
// wire handing the frame over, the stack, memcached, and the wire taking the
// response — "frame in to frame out".
//
// The client is not a stack: it sends hand-made frames (one template, its
// sequence numbers and checksum patched per request, RFC 1624) and reads the
// response's length and sequence number back, so that nearly every
// instruction counted is the server's.

#include <benchmark/benchmark.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "apps/memcached/protocol/context.h"
#include "apps/memcached/server/connection.h"
#include "apps/memcached/store/store.h"
#include "drivers/wire/wire.h"
#include "ebbs/net/stack/engine.h"
#include "runtime/runtime.h"
#include "tests/support/frames.h"

namespace {

using namespace ebb;
using namespace ebb::net;
using namespace ebb::net::stack;
using namespace ebb::net::stack::testing;

constexpr uint32_t kClientIp = 0xc6120001;  // 198.18.0.1
constexpr uint32_t kServerIp = 0xc6120002;  // 198.18.0.2
constexpr uint16_t kClientPort = 40000;
constexpr uint16_t kServerPort = 11211;
const std::string kKey = "key:00000001";
const std::string kValue(32, 'v');

// The server's half of one request: what "frame in to frame out" counts.
extern "C" __attribute__((noinline)) void ebb_bench_serve_frame(drivers::WireEnd& end,
                                                                 Engine& engine) {
  end.receive(0, [&engine](IOBuf frame) { engine.receive(std::move(frame)); }, 1);
  engine.flush([&end](IOBuf frame) { (void)end.transmit(0, std::move(frame)); });
}

class GetPath {
 public:
  GetPath() : wire_(drivers::WireOptions{}, Clock(&clock_)) {}
  ~GetPath() {
    if (server_) server_->store.clock().stop_ticking();
  }

  // Starts the server and opens the client's connection; false on failure
  // (printed). On a core.
  bool start() {
    StackConfig config;
    config.interface.ip = kServerIp;
    config.seed = 7;
    engine_ = std::make_unique<Engine>(config, wire_.end(1).mac(), wire_.end(1).mtu(), Clock(&clock_));
    memcached::TableOptions table;
    Result<Ref<memcached::Store>> store = memcached::Store::Create(table);
    if (!store) return complain("cannot make the store");
    server_ = std::make_unique<memcached::Server>(memcached::Settings{}, **store, 1);
    // As ebb-memcached serves: requests read the ticking clock.
    if (!server_->store.clock().start_ticking()) return complain("cannot start the clock");
    memcached::Server* server = server_.get();
    if (!engine_->listen(kServerPort, [server](Connection c) {
          memcached::serve_connection(*server, std::move(c));
        }))
      return complain("cannot listen");
    const MacAddress me = wire_.end(0).mac();
    // The server learns the client's address from its ARP request.
    send(ethernet(MacAddress::Broadcast(), me, eth::kTypeArp,
                  arp_packet(arp::kRequest, me, kClientIp, MacAddress{}, kServerIp)));
    serve();
    drain();
    // The handshake.
    client_seq_ = 1000;
    send_tcp(tcp::kSyn, "", "\x02\x04\x05\xb4");  // MSS 1460, no window scaling
    serve();
    SentSegment syn_ack = take();
    if (!syn_ack.valid || !syn_ack.has(tcp::kSyn)) return complain("no SYN-ACK");
    client_seq_ += 1;
    server_seq_ = syn_ack.seq + 1;
    send_tcp(tcp::kAck, "");
    serve();
    drain();
    // The item every GET reads.
    if (!round_trip("set " + kKey + " 0 0 " + std::to_string(kValue.size()) + "\r\n" + kValue + "\r\n",
                    "STORED\r\n"))
      return complain("the set failed");
    // The GET frame every request sends, with the sequence numbers to patch.
    request_ = "get " + kKey + "\r\n";
    expected_ = "VALUE " + kKey + " 0 " + std::to_string(kValue.size()) + "\r\n" + kValue + "\r\nEND\r\n";
    if (!round_trip(request_, expected_)) return complain("the first get failed");
    get_template_ = tcp_frame(tcp::kAck | tcp::kPsh, request_);
    return true;
  }

  // One GET: its frame onto the wire, the server's turn, the response read.
  bool request() {
    std::string& f = get_template_;
    auto* tcp_header = reinterpret_cast<uint8_t*>(f.data()) + eth::kHeaderBytes + ip::kMinHeaderBytes;
    patch32(tcp_header, tcp::kSeq, client_seq_);
    patch32(tcp_header, tcp::kAckNumber, server_seq_);
    Result<IOBuf> frame = IOBuf::CopyOf(f);
    if (!frame || !wire_.end(0).transmit(0, std::move(*frame))) return false;
    client_seq_ += static_cast<uint32_t>(request_.size());
    ebb_bench_serve_frame(wire_.end(1), *engine_);
    std::size_t length = 0;
    uint32_t seq = 0;
    wire_.end(0).receive(0, [&](IOBuf response) {
      uint8_t h[eth::kHeaderBytes + ip::kMinHeaderBytes + tcp::kMinHeaderBytes];
      if (!response.copy_out(0, h, sizeof h)) return;
      const uint8_t* t = h + eth::kHeaderBytes + ip::kMinHeaderBytes;
      seq = load32(t + tcp::kSeq);
      length = load16(h + eth::kHeaderBytes + ip::kTotalLength) - ip::kMinHeaderBytes -
               (t[tcp::kDataOffset] >> 4) * 4u;
    }, 8);
    if (length != expected_.size() || seq != server_seq_) return false;
    server_seq_ += static_cast<uint32_t>(length);
    return true;
  }

  const StackCounters& counters() const { return engine_->counters(); }

 private:
  static bool complain(const char* what) {
    std::fprintf(stderr, "ebb-bench-net: %s\n", what);
    return false;
  }

  // RFC 1624: a 32-bit field changes, the checksum follows without a new sum.
  static void patch32(uint8_t* tcp_header, uint32_t at, uint32_t value) {
    const uint32_t old = load32(tcp_header + at);
    uint32_t sum = static_cast<uint16_t>(~load16(tcp_header + tcp::kChecksum));
    sum += static_cast<uint16_t>(~(old >> 16)) + static_cast<uint16_t>(~old);
    sum += (value >> 16) + (value & 0xffff);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    store16(tcp_header + tcp::kChecksum, static_cast<uint16_t>(~sum));
    store32(tcp_header + at, value);
  }

  std::string tcp_frame(uint8_t flags, const std::string& payload, const std::string& options = "") {
    return ethernet(wire_.end(1).mac(), wire_.end(0).mac(), eth::kTypeIpv4,
                    ipv4({.source = kClientIp, .destination = kServerIp},
                         tcp_segment(kClientIp, kServerIp,
                                     {.source_port = kClientPort, .destination_port = kServerPort,
                                      .seq = client_seq_, .ack = server_seq_, .flags = flags,
                                      .window = 65535, .options = options, .payload = payload})));
  }
  void send(const std::string& frame) { (void)wire_.end(0).transmit(0, frame_of(frame)); }
  void send_tcp(uint8_t flags, const std::string& payload, const std::string& options = "") {
    send(tcp_frame(flags | (flags & tcp::kSyn ? 0 : tcp::kAck), payload, options));
  }
  void serve() {
    while (wire_.next_due(1) != 0) ebb_bench_serve_frame(wire_.end(1), *engine_);
  }
  void drain() {
    wire_.end(0).receive(0, [](IOBuf) {}, 64);
  }
  SentSegment take() {
    SentSegment s;
    wire_.end(0).receive(0, [&s](IOBuf f) { if (!s.valid) s = parse_tcp_frame(f); }, 64);
    return s;
  }
  bool round_trip(const std::string& request, const std::string& want) {
    send_tcp(tcp::kAck | tcp::kPsh, request);
    client_seq_ += static_cast<uint32_t>(request.size());
    serve();
    std::string got;
    wire_.end(0).receive(0, [&](IOBuf f) {
      SentSegment s = parse_tcp_frame(f);
      if (!s.valid || s.payload_length == 0) return;
      const std::string bytes = f.to_string();
      got += bytes.substr(bytes.size() - s.payload_length);
      server_seq_ = s.seq + static_cast<uint32_t>(s.payload_length);
    }, 64);
    return got == want;
  }

  ManualClock clock_;
  drivers::Wire wire_;
  std::unique_ptr<memcached::Server> server_;  // outlives the engine: its connections end first
  std::unique_ptr<Engine> engine_;
  uint32_t client_seq_ = 0;
  uint32_t server_seq_ = 0;
  std::string request_, expected_, get_template_;
};

void BM_StackGet(benchmark::State& state) {
  Runtime runtime({.cores = 1});
  auto result = runtime.run_on(0, [&state]() -> Status {
    GetPath path;
    if (!path.start()) return Error(Errc::kInvalidArgument, "setup failed");
    for (auto _ : state) {
      if (!path.request()) return Error(Errc::kInvalidArgument, "a GET failed");
    }
    state.counters["frames_out_per_get"] = benchmark::Counter(
        static_cast<double>(path.counters().frames_out) / static_cast<double>(state.iterations() + 5));
    return {};
  });
  if (!result) state.SkipWithError(result.error().message());
}
BENCHMARK(BM_StackGet);

// --requests N: exactly N GETs after the setup (which is the same for every
// N), for counting instructions with callgrind.
int run_requests(uint64_t n) {
  Runtime runtime({.cores = 1});
  uint64_t frames_out = 0;
  auto result = runtime.run_on(0, [n, &frames_out]() -> Status {
    GetPath path;
    if (!path.start()) return Error(Errc::kInvalidArgument, "setup failed");
    const uint64_t before = path.counters().frames_out;
    for (uint64_t i = 0; i < n; ++i)
      if (!path.request()) return Error(Errc::kInvalidArgument, "a GET failed", static_cast<int64_t>(i));
    frames_out = path.counters().frames_out - before;
    return {};
  });
  if (!result) {
    char why[kErrorTextSize];
    std::fprintf(stderr, "ebb-bench-net: %s\n", result.error().describe(why, sizeof why));
    return 1;
  }
  std::printf("ebb-bench-net: %" PRIu64 " GETs through the own stack over drivers/wire, %" PRIu64
              " response frames\n",
              n, frames_out);
  return frames_out == n ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--requests", 10) == 0) {
      const char* value = argv[i][10] == '=' ? argv[i] + 11 : (i + 1 < argc ? argv[i + 1] : nullptr);
      char* end = nullptr;
      const unsigned long long n = value != nullptr ? std::strtoull(value, &end, 10) : 0;
      if (value == nullptr || end == value || *end != '\0' || n == 0) {
        std::fprintf(stderr, "ebb-bench-net: --requests wants a whole number of at least 1\n");
        return 2;
      }
      return run_requests(n);
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
