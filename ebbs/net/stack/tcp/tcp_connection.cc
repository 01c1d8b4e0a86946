#include "ebbs/net/stack/tcp/tcp_connection.h"

#include <cerrno>

#include "ebbs/net/stack/engine.h"
#include "ebbs/net/stack/tcp/seq.h"
#include "ebbs/net/stack/tcp/tcp_layer.h"
#include "ebbs/net/stack/wire_format.h"

namespace ebb::net::stack {
namespace {

constexpr uint16_t kDefaultMss = 536;  // RFC 9293 3.7.1: when the peer sends none
constexpr uint32_t kMaxUnscaledWindow = 65535;
// Segments up to this many bytes are copied rather than shared (see send_segment).
constexpr uint32_t kCopyBelow = 512;

uint32_t min32(uint32_t a, uint32_t b) { return a < b ? a : b; }
uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }

}  // namespace

const char* tcp_state_name(TcpState state) {
  switch (state) {
    case TcpState::kClosed: return "CLOSED";
    case TcpState::kSynSent: return "SYN-SENT";
    case TcpState::kSynReceived: return "SYN-RECEIVED";
    case TcpState::kEstablished: return "ESTABLISHED";
    case TcpState::kFinWait1: return "FIN-WAIT-1";
    case TcpState::kFinWait2: return "FIN-WAIT-2";
    case TcpState::kCloseWait: return "CLOSE-WAIT";
    case TcpState::kClosing: return "CLOSING";
    case TcpState::kLastAck: return "LAST-ACK";
    case TcpState::kTimeWait: return "TIME-WAIT";
  }
  return "?";
}

TcpConnection::TcpConnection(TcpLayer& layer, Endpoint local, Endpoint peer,
                             const ConnectionOptions& options)
    : ConnectionState(layer.engine().core_index(), local, peer, options),
      layer_(layer),
      rtt_(layer.engine().config().tcp.initial_rto_ns, layer.engine().config().tcp.min_rto_ns,
           layer.engine().config().tcp.max_rto_ns) {
  // The smallest shift that lets the window cover the whole receive buffer.
  const uint32_t buffer = layer.engine().config().tcp.receive_buffer;
  while (rcv_wscale_ < tcp::kMaxWindowScale && (buffer >> rcv_wscale_) > kMaxUnscaledWindow)
    ++rcv_wscale_;
  mss_ = static_cast<uint16_t>(layer.engine().mtu() - ip::kMinHeaderBytes - tcp::kMinHeaderBytes);
}

TcpConnection::~TcpConnection() = default;

uint64_t TcpConnection::now() const { return layer_.engine().now(); }

// ---- opening -----------------------------------------------------------------------

namespace {
// SYN options: MSS, and the window scale (when the peer offered it, for a SYN-ACK).
uint32_t syn_options(uint8_t* out, uint16_t mss, int window_scale) {
  uint32_t n = 0;
  out[n++] = tcp::kOptionMss;
  out[n++] = 4;
  store16(out + n, mss);
  n += 2;
  if (window_scale >= 0) {
    out[n++] = tcp::kOptionNop;
    out[n++] = tcp::kOptionWindowScale;
    out[n++] = 3;
    out[n++] = static_cast<uint8_t>(window_scale);
  }
  return n;
}
}  // namespace

void TcpConnection::open_active(Promise<Connection> connected) {
  passive_ = false;
  connected_.emplace(std::move(connected));
  iss_ = layer_.initial_sequence(peer_.ip, peer_.port, local_.port);
  snd_una_ = iss_;
  snd_nxt_ = iss_ + 1;
  snd_max_ = snd_nxt_;
  recover_ = iss_;
  state_ = TcpState::kSynSent;
  last_heard_ = opened_at_ = now();
  send_control(tcp::kSyn, iss_);
  arm_retransmit();
}

void TcpConnection::open_passive(const TcpSegment& syn) {
  passive_ = true;
  irs_ = syn.seq;
  rcv_nxt_ = syn.seq + 1;
  if (syn.mss != 0) mss_ = static_cast<uint16_t>(min32(mss_, syn.mss < 64 ? 64 : syn.mss));
  else mss_ = static_cast<uint16_t>(min32(mss_, kDefaultMss));
  if (syn.window_scale >= 0) snd_wscale_ = static_cast<uint8_t>(syn.window_scale);
  else rcv_wscale_ = 0;  // RFC 7323: both sides scale, or neither
  snd_wnd_ = syn.window;  // a SYN's window is never scaled
  max_snd_wnd_ = snd_wnd_;
  snd_wl1_ = syn.seq;
  iss_ = layer_.initial_sequence(peer_.ip, peer_.port, local_.port);
  snd_una_ = iss_;
  snd_nxt_ = iss_ + 1;
  snd_max_ = snd_nxt_;
  snd_wl2_ = iss_;
  recover_ = iss_;
  state_ = TcpState::kSynReceived;
  last_heard_ = opened_at_ = now();
  send_control(tcp::kSyn | tcp::kAck, iss_);
  arm_retransmit();
}

void TcpConnection::established() {
  state_ = TcpState::kEstablished;
  // RFC 6928's initial window.
  const uint32_t segments = layer_.engine().config().tcp.initial_window_segments;
  cwnd_ = min32(segments * mss_, std::max<uint32_t>(2 * mss_, 14600));
  if (cwnd_ < mss_) cwnd_ = mss_;
  retransmits_ = 0;
  retransmit_at_ = snd_una_ == snd_max_ ? 0 : retransmit_at_;
  if (layer_.engine().config().tcp.keepalive)
    keepalive_at_ = now() + layer_.engine().config().tcp.keepalive_idle_ns;
  if (passive_) {
    layer_.established(*this);
  } else if (connected_) {
    ++layer_.engine().counters().tcp_connected;
    Promise<Connection> p = std::move(*connected_);
    connected_.reset();
    p.set_value(Connection(this));
  }
}

// ---- segment arrival (RFC 9293 3.10.7) ----------------------------------------------

[[gnu::flatten]] void TcpConnection::input(TcpSegment& seg) {
  Connection hold(this);  // the app or a reset may drop every other reference
  in_input_ = true;
  if (state_ == TcpState::kSynSent) input_syn_sent(seg);
  else if (!input_predicted(seg) && state_ != TcpState::kClosed) input_synchronized(seg);
  in_input_ = false;
  if (state_ == TcpState::kClosed) return;
  output();
  if (ack_now_) send_ack();
  else if (unacked_segments_ > 0 && delayed_ack_at_ == 0)
    delayed_ack_at_ = now() + layer_.engine().config().tcp.delayed_ack_ns;
  reschedule();
}

// Header prediction (Van Jacobson's, as BSD has it): the usual segment of
// an established connection — the next in order, only ACK (and PSH) set,
// the same window, it acknowledges something new or carries data, and
// nothing unusual is going on — has the effects of the full processing
// below at a fraction of the tests. Anything else returns false untouched.
[[gnu::flatten]] bool TcpConnection::input_predicted(TcpSegment& seg) {
  const auto length = static_cast<uint32_t>(seg.payload.length());
  if (state_ != TcpState::kEstablished || (seg.flags & ~tcp::kPsh) != tcp::kAck ||
      seg.seq != rcv_nxt_ || (static_cast<uint32_t>(seg.window) << snd_wscale_) != snd_wnd_ ||
      !ooo_.empty() || in_recovery_ || length > receive_window())
    return false;
  const bool new_ack = seq_gt(seg.ack, snd_una_);
  if (new_ack ? seq_gt(seg.ack, snd_max_) : (seg.ack != snd_una_ || length == 0)) return false;
  const uint64_t t = now();
  last_heard_ = t;
  keepalive_probes_ = 0;
  if (new_ack && !acknowledge(seg.ack, t)) return true;
  update_send_window(seg, snd_wnd_);
  window_probes_ = 0;
  if (length > 0) take_next(std::move(seg.payload));
  return true;
}

void TcpConnection::input_syn_sent(TcpSegment& seg) {
  StackCounters& counters = layer_.engine().counters();
  const bool ack = seg.has(tcp::kAck);
  if (ack && (seq_le(seg.ack, iss_) || seq_gt(seg.ack, snd_nxt_))) {
    ++counters.tcp_bad_acks;
    if (!seg.has(tcp::kRst)) send_reset(seg.ack);
    return;
  }
  if (seg.has(tcp::kRst)) {
    if (ack) {
      ++counters.tcp_resets_in;
      fail_connect(Error::from_errno("connection refused", ECONNREFUSED));
    }
    return;
  }
  if (!seg.has(tcp::kSyn)) return;
  irs_ = seg.seq;
  rcv_nxt_ = seg.seq + 1;
  // Our SYN offered a window before RCV.NXT was known: its edge counts from here.
  rcv_adv_ = rcv_nxt_ + min32(layer_.engine().config().tcp.receive_buffer, kMaxUnscaledWindow);
  if (seg.mss != 0) mss_ = static_cast<uint16_t>(min32(mss_, seg.mss < 64 ? 64 : seg.mss));
  else mss_ = static_cast<uint16_t>(min32(mss_, kDefaultMss));
  if (seg.window_scale >= 0) {
    snd_wscale_ = static_cast<uint8_t>(seg.window_scale);
  } else {
    snd_wscale_ = 0;
    rcv_wscale_ = 0;
  }
  snd_wnd_ = seg.window;
  max_snd_wnd_ = snd_wnd_;
  snd_wl1_ = seg.seq;
  snd_wl2_ = seg.ack;
  if (ack) {
    snd_una_ = seg.ack;
    if (retransmits_ == 0) rtt_.sample(now() - opened_at_);  // the SYN's round trip (Karn)
    retransmit_at_ = 0;
    ack_now_ = true;
    established();
  } else {
    // Simultaneous open: both sent a SYN (RFC 9293 3.5, figure 8).
    state_ = TcpState::kSynReceived;
    send_control(tcp::kSyn | tcp::kAck, iss_);
  }
}

bool TcpConnection::acceptable(const TcpSegment& seg) const {
  const uint32_t window = receive_window();
  const uint32_t length = seg.length();
  if (length == 0) {
    return window == 0 ? seg.seq == rcv_nxt_ : seq_in(seg.seq, rcv_nxt_, rcv_nxt_ + window);
  }
  if (window == 0) return false;
  return seq_in(seg.seq, rcv_nxt_, rcv_nxt_ + window) ||
         seq_in(seg.seq + length - 1, rcv_nxt_, rcv_nxt_ + window);
}

// Cuts what lies outside [rcv_nxt_, rcv_nxt_ + window) off the segment.
void TcpConnection::trim_to_window(TcpSegment& seg) {
  if (seq_lt(seg.seq, rcv_nxt_)) {
    uint32_t skip = rcv_nxt_ - seg.seq;
    if (seg.has(tcp::kSyn)) {
      seg.flags &= static_cast<uint8_t>(~tcp::kSyn);
      --skip;
    }
    const uint32_t data = static_cast<uint32_t>(seg.payload.length());
    if (skip > 0) ++layer_.engine().counters().tcp_duplicates;
    if (skip >= data) {
      seg.payload.clear();
      if (skip > data) seg.flags &= static_cast<uint8_t>(~tcp::kFin);  // the FIN was seen
    } else {
      seg.payload.trim_front(skip);
    }
    seg.seq = rcv_nxt_;
  }
  const uint32_t window = receive_window();
  const uint32_t data = static_cast<uint32_t>(seg.payload.length());
  if (seq_gt(seg.seq + data, rcv_nxt_ + window)) {
    const uint32_t excess = seg.seq + data - (rcv_nxt_ + window);
    seg.payload.trim_back(excess < data ? excess : data);
    seg.flags &= static_cast<uint8_t>(~tcp::kFin);  // beyond the window: not yet
  }
}

void TcpConnection::input_synchronized(TcpSegment& seg) {
  StackCounters& counters = layer_.engine().counters();
  const uint64_t t = now();
  // First: is the segment in the window?
  if (!acceptable(seg)) {
    if (seg.has(tcp::kRst)) return;
    if (state_ == TcpState::kSynReceived && seg.has(tcp::kSyn) && !seg.has(tcp::kAck) &&
        seg.seq == irs_) {
      send_control(tcp::kSyn | tcp::kAck, iss_);  // the peer's SYN again: ours was lost
      return;
    }
    // A zero window accepts nothing, but its ACKs still count (3.10.7.4).
    const bool zero_window_ack = receive_window() == 0 && seg.seq == rcv_nxt_ && seg.has(tcp::kAck);
    if (!zero_window_ack) {
      // Wholly old (a duplicate, or a retransmission we already had) or
      // wholly beyond the window (a blind attack, or a confused peer).
      if (seq_le(seg.seq + seg.length(), rcv_nxt_)) ++counters.tcp_duplicates;
      else ++counters.tcp_out_of_window;
      if (state_ == TcpState::kTimeWait && seg.has(tcp::kFin))  // the peer missed our ACK
        time_wait_at_ = t + layer_.engine().config().tcp.time_wait_ns;
      ack_now_ = true;
      return;
    }
    // A probe with data at RCV.NXT: its bytes do not fit, but it must hear
    // the window (else a lost window update leaves the peer probing blind).
    if (!seg.payload.empty() || seg.has(tcp::kFin)) ack_now_ = true;
    seg.payload.clear();
    seg.flags &= static_cast<uint8_t>(~(tcp::kFin | tcp::kSyn));
  }
  last_heard_ = t;
  keepalive_probes_ = 0;
  trim_to_window(seg);

  // Second: RST (RFC 5961 3.2: exactly at RCV.NXT, else a challenge).
  if (seg.has(tcp::kRst)) {
    if (seg.seq != rcv_nxt_) {
      send_challenge_ack();
      return;
    }
    ++counters.tcp_resets_in;
    if (state_ == TcpState::kSynReceived) {
      if (passive_) terminate(Error::from_errno("reset during the handshake", ECONNRESET));
      else fail_connect(Error::from_errno("connection refused", ECONNREFUSED));
    } else if (state_ == TcpState::kTimeWait) {
      terminate(Status());
    } else {
      reset_by_peer();
    }
    return;
  }
  // Fourth: SYN in a synchronized state (RFC 5961 4.2: a challenge ACK).
  if (seg.has(tcp::kSyn)) {
    send_challenge_ack();
    return;
  }
  // Fifth: ACK.
  if (!seg.has(tcp::kAck)) return;
  if (!process_ack(seg)) return;
  // Seventh: text; eighth: FIN.
  process_data(seg);
}

bool TcpConnection::process_ack(const TcpSegment& seg) {
  StackCounters& counters = layer_.engine().counters();
  const uint64_t t = now();
  if (state_ == TcpState::kSynReceived) {
    if (!(seq_lt(snd_una_, seg.ack) && seq_le(seg.ack, snd_nxt_))) {
      ++counters.tcp_bad_acks;
      send_reset(seg.ack);
      return false;
    }
    snd_una_ = seg.ack;
    snd_wnd_ = static_cast<uint32_t>(seg.window) << snd_wscale_;
    max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
    snd_wl1_ = seg.seq;
    snd_wl2_ = seg.ack;
    if (retransmits_ == 0) rtt_.sample(t - opened_at_);
    retransmit_at_ = 0;
    established();
    if (state_ == TcpState::kClosed) return false;
  }
  // RFC 5961 5.2: an ACK for what was never sent, or too old to be real.
  if (seq_gt(seg.ack, snd_max_)) {
    ++counters.tcp_bad_acks;
    ack_now_ = true;
    return false;
  }
  const uint32_t old_window = std::max<uint32_t>(max_snd_wnd_, kMaxUnscaledWindow);
  if (seq_lt(seg.ack, snd_una_ - old_window)) {
    ++counters.tcp_bad_acks;
    ack_now_ = true;
    return false;
  }
  const uint32_t new_window = static_cast<uint32_t>(seg.window) << snd_wscale_;
  if (seq_gt(seg.ack, snd_una_)) {
    if (!acknowledge(seg.ack, t)) return false;  // the app closed in on_writable
  } else if (seg.ack == snd_una_ && seg.payload.empty() && !seg.has(tcp::kFin) &&
             snd_max_ != snd_una_ && new_window == snd_wnd_) {
    // A duplicate ACK (RFC 5681 2): the peer got something past a hole.
    ++dupacks_;
    if (!in_recovery_ && dupacks_ == 3 && seq_gt(seg.ack, recover_)) {
      ++counters.tcp_fast_retransmits;
      const uint32_t flight = snd_max_ - snd_una_;
      ssthresh_ = std::max<uint32_t>(flight / 2, 2u * mss_);
      recover_ = snd_max_;
      in_recovery_ = true;
      retransmit_first();
      cwnd_ = ssthresh_ + 3u * mss_;
    } else if (in_recovery_) {
      cwnd_ += mss_;  // each duplicate: a segment left the network
    }
  }
  update_send_window(seg, new_window);
  // The peer answers: a window it keeps closed is no reason to give up
  // (RFC 1122 4.2.2.17); only probes nobody answers are.
  window_probes_ = 0;
  // Our FIN acknowledged?
  const bool fin_acked = fin_sent_ && snd_una_ == snd_max_;
  if (fin_acked) {
    switch (state_) {
      case TcpState::kFinWait1:
        state_ = TcpState::kFinWait2;
        if (app_closed_)  // nobody will read: do not wait for the peer forever
          time_wait_at_ = t + layer_.engine().config().tcp.fin_wait2_ns;
        break;
      case TcpState::kClosing: enter_time_wait(); return false;
      case TcpState::kLastAck: terminate(Status()); return false;
      default: break;
    }
  }
  return true;
}

// New data acknowledged, up to `ack`: the queue, RTT, congestion window and
// retransmission timer follow. False when the connection closed meanwhile
// (the app, told of room in the queue, closed it).
bool TcpConnection::acknowledge(uint32_t ack, uint64_t t) {
  const uint32_t acked = ack - snd_una_;
  const std::size_t queued = send_queue_.length();
  send_queue_.trim_front(acked < queued ? acked : queued);
  snd_una_ = ack;
  if (seq_lt(snd_nxt_, snd_una_)) snd_nxt_ = snd_una_;
  if (timing_ && seq_ge(ack, timed_seq_)) {
    rtt_.sample(t - timed_at_);
    timing_ = false;
  }
  retransmits_ = 0;
  rtt_.reset_backoff();
  const uint32_t flight = snd_max_ - snd_una_;
  if (in_recovery_) {
    if (seq_ge(ack, recover_)) {  // a full ACK ends recovery (RFC 6582 3.2 step 3)
      cwnd_ = min32(ssthresh_, std::max(flight, static_cast<uint32_t>(mss_)) + mss_);
      in_recovery_ = false;
      dupacks_ = 0;
    } else {  // partial: the next hole is lost too (step 4)
      retransmit_first();
      cwnd_ = cwnd_ > acked ? cwnd_ - acked : 0;
      if (acked >= mss_) cwnd_ += mss_;
      if (cwnd_ < mss_) cwnd_ = mss_;
    }
  } else {
    dupacks_ = 0;
    if (cwnd_ < ssthresh_) cwnd_ += min32(acked, mss_);  // slow start
    else cwnd_ += std::max<uint32_t>(1, mss_ * mss_ / cwnd_);  // congestion avoidance
  }
  retransmit_at_ = snd_una_ == snd_max_ ? 0 : t + rtt_.rto();
  queue_changed(send_queue_.length());
  return state_ != TcpState::kClosed;
}

// The send window from a segment (SND.WL1/WL2 keep an old segment from
// shrinking it).
void TcpConnection::update_send_window(const TcpSegment& seg, uint32_t window) {
  if (!(seq_lt(snd_wl1_, seg.seq) || (snd_wl1_ == seg.seq && seq_le(snd_wl2_, seg.ack)))) return;
  snd_wnd_ = window;
  max_snd_wnd_ = std::max(max_snd_wnd_, snd_wnd_);
  snd_wl1_ = seg.seq;
  snd_wl2_ = seg.ack;
  if (snd_wnd_ > 0) {
    persist_at_ = 0;
    persist_backoff_ = 0;
  }
}

// In-order data at RCV.NXT: taken, and acknowledged every second segment.
void TcpConnection::take_next(IOBuf&& data) {
  rcv_nxt_ += static_cast<uint32_t>(data.length());
  if (++unacked_segments_ >= 2) ack_now_ = true;
  take_in_order(std::move(data));
}

void TcpConnection::process_data(TcpSegment& seg) {
  const bool can_receive = state_ == TcpState::kEstablished || state_ == TcpState::kFinWait1 ||
                           state_ == TcpState::kFinWait2;
  if (!can_receive) {
    if (state_ == TcpState::kTimeWait && seg.has(tcp::kFin)) {
      time_wait_at_ = now() + layer_.engine().config().tcp.time_wait_ns;
      ack_now_ = true;
    }
    return;
  }
  const bool fin = seg.has(tcp::kFin);
  if (seg.payload.empty() && !fin) return;
  if (seg.seq != rcv_nxt_) {  // ahead of a hole: keep it, and say so at once
    ++layer_.engine().counters().tcp_out_of_order;
    queue_out_of_order(seg.seq, std::move(seg.payload), fin);
    ack_now_ = true;
    return;
  }
  const bool had_gap = !ooo_.empty();
  if (!seg.payload.empty()) {
    take_next(std::move(seg.payload));
    if (state_ == TcpState::kClosed) return;
  }
  if (fin) {
    process_fin();
    return;
  }
  if (had_gap) {
    ack_now_ = true;  // a hole filled: tell the sender now (RFC 5681 4.2)
    drain_out_of_order();
  }
}

void TcpConnection::take_in_order(IOBuf&& data) {
  if (app_closed_) return;  // nobody reads any more: acknowledged and dropped
  if (receiving_ && held_.empty()) {
    deliver(std::move(data));
  } else {
    held_.append(std::move(data));
  }
}

void TcpConnection::queue_out_of_order(uint32_t seq, IOBuf data, bool fin) {
  const std::size_t length = data.length();
  // Bounded by the buffer: overlapping copies must not multiply it.
  if (ooo_bytes_ + length > layer_.engine().config().tcp.receive_buffer) return;
  auto it = ooo_.begin();
  while (it != ooo_.end() && seq_lt(it->seq, seq)) ++it;
  if (it != ooo_.end() && it->seq == seq && it->data.length() >= length && (it->fin || !fin))
    return;  // a duplicate of what is held
  ooo_bytes_ += length;
  ooo_.insert(it, OutOfOrder{seq, std::move(data), fin});
}

void TcpConnection::drain_out_of_order() {
  while (!ooo_.empty() && seq_le(ooo_.front().seq, rcv_nxt_)) {
    OutOfOrder piece = std::move(ooo_.front());
    ooo_.erase(ooo_.begin());
    ooo_bytes_ -= piece.data.length();
    const uint32_t length = static_cast<uint32_t>(piece.data.length());
    const uint32_t end = piece.seq + length;
    if (seq_gt(end, rcv_nxt_)) {
      piece.data.trim_front(rcv_nxt_ - piece.seq);
      rcv_nxt_ = end;
      take_in_order(std::move(piece.data));
      if (state_ == TcpState::kClosed) return;
    }
    if (piece.fin && end == rcv_nxt_) {
      process_fin();
      return;
    }
  }
}

void TcpConnection::process_fin() {
  rcv_nxt_ += 1;
  fin_received_ = true;
  ack_now_ = true;
  ooo_.clear();
  ooo_bytes_ = 0;
  switch (state_) {
    case TcpState::kSynReceived:
    case TcpState::kEstablished: state_ = TcpState::kCloseWait; break;
    case TcpState::kFinWait1:
      if (fin_sent_ && snd_una_ == snd_max_) {
        send_ack();
        enter_time_wait();
        return;
      }
      state_ = TcpState::kClosing;  // simultaneous close (figure 13)
      break;
    case TcpState::kFinWait2:
      send_ack();
      enter_time_wait();
      break;
    default: break;
  }
  // The app hears of the end after any data it has not taken yet.
  if (!app_closed_ && held_.empty()) {
    Connection hold(this);
    deliver_end();
  }
}

// ---- sending ---------------------------------------------------------------------

Status TcpConnection::send(IOBuf&& data) {
  if ((state_ != TcpState::kEstablished && state_ != TcpState::kCloseWait) || fin_queued_)
    return Error(Errc::kCancelled, "send on a connection that is closing or closed");
  if (data.empty()) return {};
  send_queue_.append(std::move(data));
  queue_changed(send_queue_.length());
  if (!in_input_) {
    output();
    reschedule();
  }
  return {};
}

[[gnu::flatten]] void TcpConnection::output() {
  if (state_ != TcpState::kEstablished && state_ != TcpState::kCloseWait &&
      state_ != TcpState::kFinWait1 && state_ != TcpState::kClosing &&
      state_ != TcpState::kLastAck)
    return;
  const std::size_t queued = send_queue_.length();
  for (;;) {
    const uint32_t offset = snd_nxt_ - snd_una_;
    if (offset > queued) break;  // the FIN is out: nothing follows it
    const uint32_t available = static_cast<uint32_t>(queued - offset);
    const uint32_t window = min32(snd_wnd_, cwnd_);
    const uint32_t flight = snd_nxt_ - snd_una_;
    const uint32_t usable = window > flight ? window - flight : 0;
    const uint32_t length = min32(min32(available, mss_), usable);
    const bool fin = fin_queued_ && length == available;
    if (length == 0 && !(fin && available == 0)) {
      // Data waits on a closed window with nothing in flight: probe it.
      if (available > 0 && snd_wnd_ == 0 && flight == 0 && persist_at_ == 0) {
        persist_at_ = now() + rtt_.rto();
        retransmit_at_ = 0;
      }
      break;
    }
    // Sender SWS avoidance (RFC 9293 3.8.6.2.1): no small segment while
    // others are in flight, unless it is the last of the data.
    if (length < mss_ && length < available && flight > 0) break;
    uint8_t flags = tcp::kAck;
    if (length == available && length > 0) flags |= tcp::kPsh;
    if (fin) flags |= tcp::kFin;
    const bool fresh = seq_ge(snd_nxt_, snd_max_);
    if (!fresh) ++layer_.engine().counters().tcp_retransmits;
    send_segment(snd_nxt_, length, flags);
    if (fresh && !timing_) {  // Karn: time new segments only
      timing_ = true;
      timed_seq_ = snd_nxt_ + length + (fin ? 1 : 0);
      timed_at_ = now();
    }
    snd_nxt_ += length + (fin ? 1 : 0);
    if (fin) fin_sent_ = true;
    snd_max_ = seq_max(snd_max_, snd_nxt_);
    if (retransmit_at_ == 0) retransmit_at_ = now() + rtt_.rto();
    if (fin || snd_nxt_ - snd_una_ == queued) break;  // (all sent: nothing more to look at)
  }
}

void TcpConnection::send_segment(uint32_t seq, uint32_t length, uint8_t flags) {
  IOBuf data;
  if (length > 0 && length <= kCopyBelow) {
    // A small segment is copied behind its headers: one buffer, one link,
    // instead of a header buffer and a clone of the queue's links.
    Result<IOBuf> copy = IOBuf::Create(length, kHeadroom);
    if (!copy) return;  // out of memory: as if lost; the timer sends it again
    send_queue_.copy_out(seq - snd_una_, copy->push_back(length), length);
    data = std::move(*copy);
  } else if (length > 0) {
    Result<IOBuf> piece = send_queue_.clone_range(seq - snd_una_, length);
    if (!piece) return;
    data = std::move(*piece);
  }
  const uint16_t window = advertised_window();
  unacked_segments_ = 0;
  ack_now_ = false;
  delayed_ack_at_ = 0;
  layer_.send(peer_.ip, local_.port, peer_.port, seq, rcv_nxt_, flags, window, nullptr, 0,
              std::move(data));
}

void TcpConnection::send_control(uint8_t flags, uint32_t seq) {
  uint8_t options[8];
  uint32_t options_length = 0;
  if ((flags & tcp::kSyn) != 0) {
    const uint16_t our_mss =
        static_cast<uint16_t>(layer_.engine().mtu() - ip::kMinHeaderBytes - tcp::kMinHeaderBytes);
    // A SYN offers scaling; a SYN-ACK answers only an offer.
    const bool scale = (flags & tcp::kAck) == 0 || snd_wscale_ != 0 || rcv_wscale_ != 0;
    options_length = syn_options(options, our_mss, scale ? rcv_wscale_ : -1);
  }
  uint16_t window;
  if ((flags & tcp::kSyn) != 0) {
    window = static_cast<uint16_t>(min32(layer_.engine().config().tcp.receive_buffer, kMaxUnscaledWindow));
    rcv_adv_ = rcv_nxt_ + window;
  } else {
    window = advertised_window();
  }
  if ((flags & tcp::kAck) != 0) {
    unacked_segments_ = 0;
    ack_now_ = false;
    delayed_ack_at_ = 0;
  }
  layer_.send(peer_.ip, local_.port, peer_.port, seq, (flags & tcp::kAck) != 0 ? rcv_nxt_ : 0,
              flags, window, options, options_length, IOBuf());
}

void TcpConnection::send_reset(uint32_t seq) {
  ++layer_.engine().counters().tcp_resets_out;
  layer_.send(peer_.ip, local_.port, peer_.port, seq, 0, tcp::kRst, 0, nullptr, 0, {});
}

void TcpConnection::send_challenge_ack() {
  ++layer_.engine().counters().tcp_challenge_acks;
  send_ack();
}

void TcpConnection::retransmit_first() {
  const std::size_t queued = send_queue_.length();
  const uint32_t length = min32(static_cast<uint32_t>(queued), mss_);
  const bool fin = fin_queued_ && length == queued && fin_sent_;
  if (length == 0 && !fin) return;
  ++layer_.engine().counters().tcp_retransmits;
  if (timing_ && seq_le(timed_seq_, snd_una_ + length + (fin ? 1 : 0))) timing_ = false;  // Karn
  send_segment(snd_una_, length, tcp::kAck | (fin ? tcp::kFin : 0));
  retransmit_at_ = now() + rtt_.rto();
}

uint32_t TcpConnection::receive_window() const {
  return seq_gt(rcv_adv_, rcv_nxt_) ? rcv_adv_ - rcv_nxt_ : 0;
}

uint16_t TcpConnection::advertised_window() {
  const uint32_t buffer = layer_.engine().config().tcp.receive_buffer;
  const std::size_t used = held_.length() + ooo_bytes_;
  uint32_t space = used >= buffer ? 0 : buffer - static_cast<uint32_t>(used);
  // Receiver SWS avoidance (RFC 9293 3.8.6.2.2): open the window only in
  // steps of a segment or half the buffer.
  const uint32_t current = receive_window();
  if (space > current && space - current < min32(buffer / 2, mss_)) space = current;
  uint32_t scaled = space >> rcv_wscale_;
  if (scaled > kMaxUnscaledWindow) scaled = kMaxUnscaledWindow;
  const uint32_t edge = rcv_nxt_ + (scaled << rcv_wscale_);
  if (seq_lt(edge, rcv_adv_)) {  // never move the right edge back (3.8.6)
    scaled = (rcv_adv_ - rcv_nxt_ + (1u << rcv_wscale_) - 1) >> rcv_wscale_;
    if (scaled > kMaxUnscaledWindow) scaled = kMaxUnscaledWindow;
  }
  rcv_adv_ = seq_max(rcv_adv_, rcv_nxt_ + (scaled << rcv_wscale_));
  return static_cast<uint16_t>(scaled);
}

void TcpConnection::window_update_if_opened() {
  if (state_ == TcpState::kClosed || state_ == TcpState::kSynSent) return;
  const uint32_t buffer = layer_.engine().config().tcp.receive_buffer;
  const std::size_t used = held_.length() + ooo_bytes_;
  const uint32_t space = used >= buffer ? 0 : buffer - static_cast<uint32_t>(used);
  const uint32_t current = receive_window();
  if (space > current && space - current >= min32(buffer / 2, 2u * mss_)) send_ack();
}

// ---- the app's side --------------------------------------------------------------

void TcpConnection::set_receiving(bool on) {
  if (receiving_ == on || state_ == TcpState::kClosed) {
    receiving_ = on;
    return;
  }
  receiving_ = on;
  if (!on) return;
  // What piled up goes to the app in an event of its own, not inside this call.
  layer_.engine().defer([self = Connection(this), this] {
    if (!receiving_ || app_closed_) return;
    if (!held_.empty()) {
      IOBuf data = std::move(held_);
      deliver(std::move(data));
    }
    if (fin_received_ && held_.empty() && !app_closed_ && state_ != TcpState::kClosed) deliver_end();
    window_update_if_opened();
  });
}

void TcpConnection::shutdown_write() {
  if (fin_queued_) return;
  switch (state_) {
    case TcpState::kEstablished: state_ = TcpState::kFinWait1; break;
    case TcpState::kCloseWait: state_ = TcpState::kLastAck; break;
    default: return;
  }
  fin_queued_ = true;
  if (!in_input_) {
    output();
    reschedule();
  }
}

void TcpConnection::close() {
  if (state_ == TcpState::kClosed || app_closed_) return;
  app_closed_ = true;
  held_.clear();
  if (state_ == TcpState::kSynSent) {
    terminate(Error(Errc::kCancelled, "closed before connecting"));
    return;
  }
  if (state_ == TcpState::kFinWait2 && time_wait_at_ == 0)
    time_wait_at_ = now() + layer_.engine().config().tcp.fin_wait2_ns;
  shutdown_write();
}

void TcpConnection::abort() {
  if (state_ == TcpState::kClosed) return;
  Connection hold(this);
  if (state_ != TcpState::kSynSent && state_ != TcpState::kTimeWait) send_reset(snd_max_);
  if (state_ == TcpState::kTimeWait) terminate(Status());
  else terminate(Error(Errc::kCancelled, "connection aborted"));
}

// ---- timers ----------------------------------------------------------------------

uint64_t TcpConnection::next_deadline() const {
  // 0 (off) minus one is the largest value: the minimum of d - 1 skips
  // every timer that is off, and comes back to 0 when all are.
  uint64_t earliest = retransmit_at_ - 1;
  earliest = std::min(earliest, persist_at_ - 1);
  earliest = std::min(earliest, delayed_ack_at_ - 1);
  earliest = std::min(earliest, keepalive_at_ - 1);
  earliest = std::min(earliest, time_wait_at_ - 1);
  return earliest + 1;
}

void TcpConnection::reschedule() {
  if (state_ != TcpState::kClosed) layer_.schedule(*this);
}

void TcpConnection::arm_retransmit() {
  retransmit_at_ = now() + rtt_.rto();
  reschedule();
}

void TcpConnection::on_timer(uint64_t t) {
  Connection hold(this);
  if (time_wait_at_ != 0 && time_wait_at_ <= t) {
    time_wait_at_ = 0;
    if (state_ == TcpState::kTimeWait || state_ == TcpState::kFinWait2) {
      terminate(Status());
      return;
    }
  }
  if (delayed_ack_at_ != 0 && delayed_ack_at_ <= t) {
    delayed_ack_at_ = 0;
    if (unacked_segments_ > 0) send_ack();
  }
  if (retransmit_at_ != 0 && retransmit_at_ <= t) on_retransmit_timeout(t);
  if (state_ == TcpState::kClosed) return;
  if (persist_at_ != 0 && persist_at_ <= t) on_persist_timeout();
  if (state_ == TcpState::kClosed) return;
  if (keepalive_at_ != 0 && keepalive_at_ <= t) on_keepalive_timeout(t);
}

void TcpConnection::on_retransmit_timeout(uint64_t t) {
  const TcpConfig& config = layer_.engine().config().tcp;
  retransmit_at_ = 0;
  StackCounters& counters = layer_.engine().counters();
  if (state_ == TcpState::kSynSent || state_ == TcpState::kSynReceived) {
    if (++retransmits_ > config.syn_retries) {
      ++counters.tcp_timeouts;
      if (state_ == TcpState::kSynSent || !passive_)
        fail_connect(Error(Errc::kTimedOut, "connect: no answer from the peer"));
      else
        terminate(Error(Errc::kTimedOut, "handshake timed out"));
      return;
    }
    ++counters.tcp_retransmits;
    rtt_.back_off();
    timing_ = false;
    send_control(state_ == TcpState::kSynSent ? tcp::kSyn : tcp::kSyn | tcp::kAck, iss_);
    retransmit_at_ = t + rtt_.rto();
    return;
  }
  if (snd_una_ == snd_max_) return;  // nothing outstanding
  if (++retransmits_ > config.max_retransmits) {
    ++counters.tcp_timeouts;
    terminate(Error::from_errno("connection timed out", ETIMEDOUT));
    return;
  }
  ++counters.tcp_timeouts;
  // RFC 5681 (4): one segment, and the threshold at half the flight.
  const uint32_t flight = snd_max_ - snd_una_;
  ssthresh_ = std::max<uint32_t>(flight / 2, 2u * mss_);
  cwnd_ = mss_;
  in_recovery_ = false;
  dupacks_ = 0;
  recover_ = snd_max_;  // RFC 6582 4.1: no fast retransmit for what this resends
  timing_ = false;
  rtt_.back_off();
  snd_nxt_ = snd_una_;  // go back: resend from the first unacknowledged byte
  output();
  if (retransmit_at_ == 0) retransmit_at_ = t + rtt_.rto();
}

void TcpConnection::on_persist_timeout() {
  persist_at_ = 0;
  if (snd_wnd_ > 0 || send_queue_.length() <= snd_nxt_ - snd_una_) {
    output();
    return;
  }
  const TcpConfig& config = layer_.engine().config().tcp;
  if (++window_probes_ > config.max_retransmits) {
    ++layer_.engine().counters().tcp_timeouts;
    terminate(Error::from_errno("connection timed out (zero window)", ETIMEDOUT));
    return;
  }
  // An old sequence number with no data: the peer must answer with an ACK
  // that carries its window, and accepts nothing it has no room for.
  ++layer_.engine().counters().tcp_window_probes;
  send_control(tcp::kAck, snd_una_ - 1);
  if (persist_backoff_ < 16) ++persist_backoff_;
  persist_at_ = now() + min64(rtt_.rto() << persist_backoff_, config.max_rto_ns);
}

void TcpConnection::on_keepalive_timeout(uint64_t t) {
  const TcpConfig& config = layer_.engine().config().tcp;
  keepalive_at_ = 0;
  if (!config.keepalive || (state_ != TcpState::kEstablished && state_ != TcpState::kCloseWait))
    return;
  if (keepalive_probes_ == 0 && t < last_heard_ + config.keepalive_idle_ns) {
    keepalive_at_ = last_heard_ + config.keepalive_idle_ns;  // heard from since: wait again
    return;
  }
  if (keepalive_probes_ >= config.keepalive_probes) {
    ++layer_.engine().counters().tcp_timeouts;
    terminate(Error::from_errno("connection timed out (keepalive)", ETIMEDOUT));
    return;
  }
  ++keepalive_probes_;
  ++layer_.engine().counters().tcp_keepalive_probes;
  send_control(tcp::kAck, snd_una_ - 1);
  keepalive_at_ = t + config.keepalive_interval_ns;
}

// ---- endings ---------------------------------------------------------------------

void TcpConnection::enter_time_wait() {
  state_ = TcpState::kTimeWait;
  retransmit_at_ = persist_at_ = delayed_ack_at_ = keepalive_at_ = 0;
  send_queue_.clear();
  time_wait_at_ = now() + layer_.engine().config().tcp.time_wait_ns;
  layer_.engine().defer([self = Connection(this), this] { finished(Status()); });
  layer_.entered_time_wait(*this);
  reschedule();
}

void TcpConnection::reset_by_peer() {
  terminate(Error::from_errno("connection reset by peer", ECONNRESET));
}

void TcpConnection::fail_connect(const Error& why) {
  if (connected_) {
    Promise<Connection> p = std::move(*connected_);
    connected_.reset();
    p.set_error(why);
  }
  terminate(why);
}

void TcpConnection::terminate(const Status& why) {
  if (state_ == TcpState::kClosed) return;
  Connection hold(this);
  state_ = TcpState::kClosed;
  retransmit_at_ = persist_at_ = delayed_ack_at_ = keepalive_at_ = time_wait_at_ = 0;
  send_queue_.clear();
  held_.clear();
  ooo_.clear();
  ooo_bytes_ = 0;
  if (connected_) {
    Promise<Connection> p = std::move(*connected_);
    connected_.reset();
    p.set_error(why ? Error(Errc::kCancelled, "connection closed") : why.error());
  }
  layer_.forget(*this);
  layer_.engine().defer([self = std::move(hold), this, why] { finished(why); });
}

}  // namespace ebb::net::stack
