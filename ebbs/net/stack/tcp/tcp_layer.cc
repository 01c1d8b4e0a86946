#include "ebbs/net/stack/tcp/tcp_layer.h"

#include "ebbs/net/stack/checksum.h"
#include "ebbs/net/stack/engine.h"
#include "ebbs/net/stack/flow.h"
#include "ebbs/net/stack/tcp/tcp_connection.h"
#include "ebbs/net/stack/wire_format.h"

namespace ebb::net::stack {
namespace {

constexpr uint16_t kFirstEphemeralPort = 49152;
constexpr uint32_t kEphemeralPorts = 65536 - kFirstEphemeralPort;

uint64_t key_of(uint32_t remote_ip, uint16_t remote_port, uint16_t local_port) {
  return (uint64_t{remote_ip} << 32) | (uint32_t{remote_port} << 16) | local_port;
}

uint64_t mix(uint64_t x) {
  x ^= x >> 31;
  x *= 0x7fb5d329728ea185ULL;
  x ^= x >> 27;
  x *= 0x81dadef4bc2dd44dULL;
  x ^= x >> 33;
  return x;
}

}  // namespace

TcpLayer::TcpLayer(Engine& engine) : engine_(engine) {
  const uint64_t seed = engine.config().seed != 0 ? engine.config().seed : platform::now_ns();
  isn_secret_[0] = mix(seed ^ 0x9e3779b97f4a7c15ULL);
  isn_secret_[1] = mix(isn_secret_[0] + engine.core_index());
  next_port_ = static_cast<uint16_t>(isn_secret_[1]);
}

TcpLayer::~TcpLayer() { abort_all(); }

void TcpLayer::abort_all() {
  std::vector<TcpConnection*> open;
  for (auto& [key, c] : flows_) open.push_back(c);
  for (TcpConnection* c : open) {
    Connection hold(c);
    c->abort();
  }
}

uint64_t TcpConnection::flow_key() const { return key_of(peer_.ip, peer_.port, local_.port); }

// ---- segments in -------------------------------------------------------------------

[[gnu::flatten]] void TcpLayer::input(IOBuf&& segment, uint32_t source_ip,
                                      uint32_t destination_ip) {
  StackCounters& counters = engine_.counters();
  ++counters.tcp_segments_in;
  const std::size_t length = segment.length();
  Result<const uint8_t*> fixed = segment.gather(tcp::kMinHeaderBytes);
  if (!fixed) {
    ++counters.tcp_malformed;
    return;
  }
  const uint32_t header_bytes = ((*fixed)[tcp::kDataOffset] >> 4) * 4u;
  if (header_bytes < tcp::kMinHeaderBytes || header_bytes > length) {
    ++counters.tcp_malformed;
    return;
  }
  Result<const uint8_t*> whole = segment.gather(header_bytes);
  if (!whole) {
    ++counters.tcp_malformed;
    return;
  }
  Checksum sum;
  add_pseudo_header(sum, source_ip, destination_ip, ip::kProtocolTcp, static_cast<uint32_t>(length));
  sum.add(segment);
  if (!sum.verifies()) {
    ++counters.tcp_bad_checksum;
    return;
  }
  const uint8_t* h = *whole;
  TcpSegment seg;
  seg.source_ip = source_ip;
  seg.source_port = load16(h + tcp::kSourcePort);
  seg.destination_port = load16(h + tcp::kDestinationPort);
  seg.seq = load32(h + tcp::kSeq);
  seg.ack = load32(h + tcp::kAckNumber);
  seg.flags = h[tcp::kFlags] & 0x3f;
  seg.window = load16(h + tcp::kWindow);
  if (header_bytes > tcp::kMinHeaderBytes &&
      !parse_tcp_options(h + tcp::kMinHeaderBytes, header_bytes - tcp::kMinHeaderBytes, seg)) {
    ++counters.tcp_bad_options;
    return;
  }
  // Segments to or from a broadcast address, or from port 0, are nobody's.
  if (destination_ip != engine_.ip() || seg.source_port == 0 || seg.destination_port == 0) {
    ++counters.tcp_malformed;
    return;
  }
  segment.trim_front(header_bytes);
  seg.payload = std::move(segment);

  auto it = flows_.find(key_of(source_ip, seg.source_port, seg.destination_port));
  if (it != flows_.end()) {
    it->second->input(seg);
    return;
  }
  auto listener = listeners_.find(seg.destination_port);
  if (listener != listeners_.end()) {
    input_listen(listener->second, seg, destination_ip);
    return;
  }
  ++engine_.counters().tcp_no_connection;
  reset_for(seg);
}

// RFC 9293 3.10.7.1: a reset that the segment will accept.
void TcpLayer::reset_for(const TcpSegment& seg) {
  if (seg.has(tcp::kRst)) return;  // never answer a reset
  ++engine_.counters().tcp_resets_out;
  if (seg.has(tcp::kAck)) {
    send(seg.source_ip, seg.destination_port, seg.source_port, seg.ack, 0, tcp::kRst, 0,
         nullptr, 0, IOBuf());
  } else {
    send(seg.source_ip, seg.destination_port, seg.source_port, 0, seg.seq + seg.length(),
         tcp::kRst | tcp::kAck, 0, nullptr, 0, IOBuf());
  }
}

// RFC 9293 3.10.7.2.
void TcpLayer::input_listen(Listener& listener, TcpSegment& seg, uint32_t local_ip) {
  if (seg.has(tcp::kRst)) return;
  if (seg.has(tcp::kAck)) {
    reset_for(seg);
    return;
  }
  if (!seg.has(tcp::kSyn)) return;
  if (listener.half_open >= engine_.config().tcp.max_half_open) {
    ++engine_.counters().tcp_syn_queue_full;
    return;
  }
  if (flows_.size() >= engine_.config().tcp.max_connections) {
    ++engine_.counters().tcp_too_many;
    return;
  }
  auto* c = new TcpConnection(*this, Endpoint{local_ip, seg.destination_port},
                              Endpoint{seg.source_ip, seg.source_port}, listener.options);
  c->self = Connection(c);
  c->counted_half_open = true;
  ++listener.half_open;
  flows_.emplace(c->flow_key(), c);
  c->open_passive(seg);
}

// ---- listening and connecting ----------------------------------------------------

Status TcpLayer::listen(uint16_t port, Function<void(Connection)> on_accept,
                        const ConnectionOptions& options) {
  if (port == 0) return Error(Errc::kInvalidArgument, "listen: port 0");
  auto [it, added] = listeners_.try_emplace(port);
  if (!added) return Error(Errc::kAlreadyExists, "listen: port already has a listener", port);
  it->second.on_accept = std::move(on_accept);
  it->second.options = options;
  return {};
}

bool TcpLayer::unlisten(uint16_t port) { return listeners_.erase(port) != 0; }

std::size_t TcpLayer::half_open(uint16_t port) const {
  auto it = listeners_.find(port);
  return it == listeners_.end() ? 0 : it->second.half_open;
}

Future<Connection> TcpLayer::connect(Endpoint peer, const ConnectionOptions& options,
                                     uint16_t local_port) {
  if (peer.ip == 0 || peer.port == 0)
    return make_failed_future<Connection>(Error(Errc::kInvalidArgument, "connect: no address"));
  if (engine_.ip() == 0)
    return make_failed_future<Connection>(
        Error(Errc::kInvalidArgument, "connect: the interface has no address yet"));
  if (flows_.size() >= engine_.config().tcp.max_connections)
    return make_failed_future<Connection>(Error(Errc::kExhausted, "connect: too many connections"));
  // A local port whose flow hash brings the replies to this core.
  uint16_t port = local_port;
  if (port != 0 && flows_.count(key_of(peer.ip, peer.port, port)) != 0)
    return make_failed_future<Connection>(Error(Errc::kAlreadyExists, "connect: 4-tuple in use"));
  for (uint32_t tries = 0; port == 0 && tries < kEphemeralPorts; ++tries) {
    const auto candidate = static_cast<uint16_t>(kFirstEphemeralPort + next_port_++ % kEphemeralPorts);
    if (flow_core(peer.ip, peer.port, candidate, engine_.cores()) != engine_.core_index()) continue;
    if (flows_.count(key_of(peer.ip, peer.port, candidate)) != 0) continue;
    if (listeners_.count(candidate) != 0) continue;
    port = candidate;
  }
  if (port == 0)
    return make_failed_future<Connection>(Error(Errc::kExhausted, "connect: no local port free"));
  auto* c = new TcpConnection(*this, Endpoint{engine_.ip(), port}, peer, options);
  c->self = Connection(c);
  flows_.emplace(c->flow_key(), c);
  Promise<Connection> connected;
  Future<Connection> result = connected.get_future();
  c->open_active(std::move(connected));
  return result;
}

uint32_t TcpLayer::initial_sequence(uint32_t remote_ip, uint16_t remote_port, uint16_t local_port) {
  // RFC 6528: a keyed hash of the 4-tuple plus a clock of 4 µs ticks.
  const uint64_t h = mix(key_of(remote_ip, remote_port, local_port) ^ isn_secret_[0]) ^ isn_secret_[1];
  return static_cast<uint32_t>(h) + static_cast<uint32_t>(engine_.now() / 4096);
}

// ---- connections' life -------------------------------------------------------------

void TcpLayer::established(TcpConnection& c) {
  release_half_open(c);
  auto it = listeners_.find(c.local().port);
  if (it == listeners_.end()) {  // the listener went away meanwhile
    c.abort();
    return;
  }
  ++engine_.counters().tcp_accepted;
  it->second.on_accept(Connection(&c));
}

void TcpLayer::entered_time_wait(TcpConnection& c) {
  c.time_wait_prev = time_wait_tail_;
  c.time_wait_next = nullptr;
  if (time_wait_tail_ != nullptr) time_wait_tail_->time_wait_next = &c;
  else time_wait_head_ = &c;
  time_wait_tail_ = &c;
  ++time_wait_count_;
  if (time_wait_count_ > engine_.config().tcp.max_time_wait) {
    ++engine_.counters().tcp_time_wait_recycled;
    TcpConnection* oldest = time_wait_head_;
    Connection hold(oldest);
    oldest->abort();  // from TIME-WAIT: no reset is sent, it is just forgotten
  }
}

// A passive connection leaves SYN-RECEIVED: it no longer counts against
// its listener's half-open bound.
void TcpLayer::release_half_open(TcpConnection& c) {
  if (!c.counted_half_open) return;
  c.counted_half_open = false;
  auto it = listeners_.find(c.local().port);
  if (it != listeners_.end() && it->second.half_open > 0) --it->second.half_open;
}

void TcpLayer::forget(TcpConnection& c) {
  release_half_open(c);
  if (c.time_wait_prev != nullptr || time_wait_head_ == &c) {
    if (c.time_wait_prev != nullptr) c.time_wait_prev->time_wait_next = c.time_wait_next;
    else time_wait_head_ = c.time_wait_next;
    if (c.time_wait_next != nullptr) c.time_wait_next->time_wait_prev = c.time_wait_prev;
    else time_wait_tail_ = c.time_wait_prev;
    c.time_wait_prev = c.time_wait_next = nullptr;
    --time_wait_count_;
  }
  heap_remove(c);
  auto it = flows_.find(c.flow_key());
  if (it != flows_.end() && it->second == &c) flows_.erase(it);
  ++engine_.counters().tcp_closed;
  c.self = Connection();  // may be the last reference: the caller holds one
}

// ---- segments out ----------------------------------------------------------------

void TcpLayer::send(uint32_t remote_ip, uint16_t local_port,
                    uint16_t remote_port, uint32_t seq, uint32_t ack, uint8_t flags,
                    uint16_t window, const uint8_t* options, uint32_t options_length,
                    IOBuf&& payload) {
  const uint32_t header_bytes = tcp::kMinHeaderBytes + ((options_length + 3) & ~3u);
  IOBuf segment;
  if (payload.headroom() >= header_bytes + ip::kMinHeaderBytes + eth::kHeaderBytes) {
    segment = std::move(payload);
  } else {
    Result<IOBuf> header = IOBuf::Create(0, kHeadroom);
    if (!header) return;  // out of memory: as if lost (TCP retransmits)
    segment = std::move(*header);
    segment.append(std::move(payload));
  }
  uint8_t* h = segment.push_front(header_bytes);
  if (h == nullptr) return;  // (there is room: checked above)
  store16(h + tcp::kSourcePort, local_port);
  store16(h + tcp::kDestinationPort, remote_port);
  store32(h + tcp::kSeq, seq);
  store32(h + tcp::kAckNumber, ack);
  h[tcp::kDataOffset] = static_cast<uint8_t>((header_bytes / 4) << 4);
  h[tcp::kFlags] = flags;
  store16(h + tcp::kWindow, window);
  store16(h + tcp::kChecksum, 0);
  store16(h + tcp::kUrgent, 0);
  uint32_t i = tcp::kMinHeaderBytes;
  for (uint32_t o = 0; o < options_length; ++o) h[i++] = options[o];
  while (i < header_bytes) h[i++] = tcp::kOptionEnd;
  Checksum sum;
  add_pseudo_header(sum, engine_.ip(), remote_ip, ip::kProtocolTcp,
                    static_cast<uint32_t>(segment.length()));
  if (engine_.config().checksum_offload) {
    store16(h + tcp::kChecksum, sum.partial());  // the device sums the segment
  } else {
    sum.add(segment);
    store16(h + tcp::kChecksum, sum.finish());
  }
  ++engine_.counters().tcp_segments_out;
  engine_.send_ip(remote_ip, ip::kProtocolTcp, std::move(segment), /*dont_fragment=*/true);
}

// ---- timers ----------------------------------------------------------------------

uint64_t TcpLayer::next_deadline() const { return heap_.empty() ? 0 : heap_.front()->heap_key; }

void TcpLayer::schedule(TcpConnection& c) {
  const uint64_t deadline = c.next_deadline();
  if (c.heap_index == TcpConnection::kNotInHeap) {
    if (deadline == 0) return;
    c.heap_key = deadline;
    c.heap_index = static_cast<uint32_t>(heap_.size());
    heap_.push_back(&c);
    heap_up(c.heap_index);
  } else if (deadline != 0 && deadline < c.heap_key) {
    c.heap_key = deadline;
    heap_up(c.heap_index);
  }
  // Later, or none: the entry stays and runs early (see the header).
}

void TcpLayer::run_timers(uint64_t now) {
  while (!heap_.empty() && heap_.front()->heap_key <= now) {
    TcpConnection* c = heap_.front();
    Connection hold(c);
    heap_remove(*c);
    c->on_timer(now);
    if (c->state() != TcpState::kClosed) schedule(*c);
  }
}

void TcpLayer::heap_set(uint32_t i, TcpConnection* c) {
  heap_[i] = c;
  c->heap_index = i;
}

void TcpLayer::heap_up(uint32_t i) {
  TcpConnection* c = heap_[i];
  while (i > 0) {
    const uint32_t parent = (i - 1) / 2;
    if (heap_[parent]->heap_key <= c->heap_key) break;
    heap_set(i, heap_[parent]);
    i = parent;
  }
  heap_set(i, c);
}

void TcpLayer::heap_down(uint32_t i) {
  TcpConnection* c = heap_[i];
  const auto n = static_cast<uint32_t>(heap_.size());
  for (;;) {
    uint32_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && heap_[child + 1]->heap_key < heap_[child]->heap_key) ++child;
    if (heap_[child]->heap_key >= c->heap_key) break;
    heap_set(i, heap_[child]);
    i = child;
  }
  heap_set(i, c);
}

void TcpLayer::heap_remove(TcpConnection& c) {
  const uint32_t i = c.heap_index;
  if (i == TcpConnection::kNotInHeap) return;
  c.heap_index = TcpConnection::kNotInHeap;
  TcpConnection* last = heap_.back();
  heap_.pop_back();
  if (last == &c) return;
  heap_set(i, last);
  heap_up(i);
  heap_down(last->heap_index);
}

}  // namespace ebb::net::stack
