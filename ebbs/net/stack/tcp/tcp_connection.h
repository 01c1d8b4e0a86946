#pragma once
// TcpConnection: one TCP connection of the own stack — its transmission
// control block and the RFC 9293 state machine — seen by the app as a
// Connection (ebbs/net/connection.h).
//
// What it implements, and where:
//   - every state of RFC 9293 3.3.2, simultaneous open and close, TIME-WAIT;
//   - segment arrival in RFC 9293 3.10.7 order, with RFC 5961's challenge
//     ACKs for in-window RST and SYN;
//   - retransmission timeout per RFC 6298 with Karn's rule (a retransmitted
//     segment is never timed), exponential backoff, a retry limit;
//   - slow start, congestion avoidance, fast retransmit and NewReno fast
//     recovery (RFC 5681, RFC 6582);
//   - the MSS and window-scale options (RFC 7323);
//   - delayed ACKs (every second full segment, or after delayed_ack_ns),
//     immediate ACKs for out-of-order data, gap fills and FIN;
//   - zero-window probes on a persist timer; keepalive probes when asked;
//   - a receive buffer that the app's pause_receive() fills: the window
//     shrinks to zero and opens again on resume (SWS avoidance on both sides).
//
// A connection lives on one core: every call, every segment and every
// timer of it runs there.

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "ebbs/net/connection.h"
#include "ebbs/net/stack/tcp/rtt.h"
#include "ebbs/net/stack/tcp/segment.h"
#include "runtime/future.h"

namespace ebb::net::stack {

class TcpLayer;

enum class TcpState : uint8_t {
  kClosed,
  kSynSent,
  kSynReceived,
  kEstablished,
  kFinWait1,
  kFinWait2,
  kCloseWait,
  kClosing,
  kLastAck,
  kTimeWait,
};
const char* tcp_state_name(TcpState state);

class TcpConnection final : public ConnectionState {
 public:
  TcpConnection(TcpLayer& layer, Endpoint local, Endpoint peer, const ConnectionOptions& options);
  ~TcpConnection() override;

  // ---- the connection API ----
  Status send(IOBuf&& data) override;
  std::size_t send_queued() const override { return send_queue_.length(); }
  void set_receiving(bool on) override;
  void shutdown_write() override;
  void close() override;
  void abort() override;

  // ---- from the TCP layer ----
  // Active open: sends a SYN; `connected` completes on ESTABLISHED or fails.
  void open_active(Promise<Connection> connected);
  // Passive open from a listener's SYN: sends a SYN-ACK.
  void open_passive(const TcpSegment& syn);
  void input(TcpSegment& segment);
  // Runs the timers due at `now`.
  void on_timer(uint64_t now);
  // The earliest timer; 0 when none is armed.
  uint64_t next_deadline() const;

  TcpState state() const { return state_; }
  Endpoint local() const { return local_; }
  Endpoint peer() const { return peer_; }
  uint64_t flow_key() const;
  // ---- the layer's bookkeeping ----
  static constexpr uint32_t kNotInHeap = UINT32_MAX;
  uint32_t heap_index = kNotInHeap;
  uint64_t heap_key = 0;  // the deadline the heap holds (at most next_deadline())
  // TIME-WAIT connections, oldest first (the layer recycles past a bound).
  TcpConnection* time_wait_prev = nullptr;
  TcpConnection* time_wait_next = nullptr;
  bool counted_half_open = false;  // passive, not yet established: counts against the listener
  // The layer's reference while the connection is in its tables.
  Connection self;

  // ---- for tests and stats ----
  uint32_t send_mss() const { return mss_; }
  uint32_t peer_window() const { return snd_wnd_; }
  uint32_t receive_window() const;
  uint64_t rto_ns() const { return rtt_.rto(); }
  uint64_t srtt_ns() const { return rtt_.srtt(); }
  uint8_t send_window_scale() const { return snd_wscale_; }
  uint8_t receive_window_scale() const { return rcv_wscale_; }
  std::size_t out_of_order_bytes() const { return ooo_bytes_; }

 private:
  struct OutOfOrder {
    uint32_t seq;
    IOBuf data;
    bool fin;
  };

  // Segment arrival (RFC 9293 3.10.7), by state.
  bool input_predicted(TcpSegment& seg);  // false: not the usual segment
  void input_syn_sent(TcpSegment& seg);
  void input_synchronized(TcpSegment& seg);
  bool acceptable(const TcpSegment& seg) const;
  void trim_to_window(TcpSegment& seg);
  bool process_ack(const TcpSegment& seg);  // false: the segment is done with
  bool acknowledge(uint32_t ack, uint64_t now);  // false: closed meanwhile
  void update_send_window(const TcpSegment& seg, uint32_t window);
  void process_data(TcpSegment& seg);
  void take_next(IOBuf&& data);
  void process_fin();
  void take_in_order(IOBuf&& data);
  void drain_out_of_order();
  void queue_out_of_order(uint32_t seq, IOBuf data, bool fin);

  // Sending.
  void output();
  void send_segment(uint32_t seq, uint32_t length, uint8_t flags);
  void send_control(uint8_t flags, uint32_t seq);  // no data
  // At SND.MAX, not SND.NXT: after a timeout SND.NXT goes back to SND.UNA,
  // possibly behind what the peer already has, and an ACK there would look
  // old to the peer and be dropped unread (BSD does the same).
  void send_ack() { send_control(tcp::kAck, snd_max_); }
  void send_reset(uint32_t seq);
  void send_challenge_ack();
  void retransmit_first();
  void window_update_if_opened();
  uint16_t advertised_window();

  // Timers.
  void arm_retransmit();
  void on_retransmit_timeout(uint64_t now);
  void on_persist_timeout();
  void on_keepalive_timeout(uint64_t now);
  void reschedule();

  // Endings.
  void established();
  void enter_time_wait();
  void reset_by_peer();
  // The connection is over: out of the layer's tables, the app told `why`.
  void terminate(const Status& why);
  void fail_connect(const Error& why);

  uint64_t now() const;

  TcpLayer& layer_;
  TcpState state_ = TcpState::kClosed;
  bool passive_ = false;

  // Send sequence space (RFC 9293 3.3.1). send_queue_ holds the bytes from
  // snd_una_ on: sent and not acknowledged, then not yet sent.
  uint32_t iss_ = 0, snd_una_ = 0, snd_nxt_ = 0, snd_max_ = 0;
  uint32_t snd_wnd_ = 0, max_snd_wnd_ = 0, snd_wl1_ = 0, snd_wl2_ = 0;
  IOBuf send_queue_;
  bool fin_queued_ = false;  // the app is done sending: FIN after the queue
  bool fin_sent_ = false;
  uint16_t mss_ = 536;
  uint8_t snd_wscale_ = 0, rcv_wscale_ = 0;

  // Receive sequence space.
  uint32_t irs_ = 0, rcv_nxt_ = 0, rcv_adv_ = 0;  // rcv_adv_: the window's right edge as advertised
  IOBuf held_;  // in order, not yet taken by a paused app
  std::vector<OutOfOrder> ooo_;
  std::size_t ooo_bytes_ = 0;
  bool receiving_ = true;
  bool fin_received_ = false;
  bool app_closed_ = false;  // close(): nothing more goes to the app

  // Congestion control (RFC 5681, RFC 6582).
  uint32_t cwnd_ = 0, ssthresh_ = 0xffffffff;
  uint32_t dupacks_ = 0, recover_ = 0;
  bool in_recovery_ = false;

  // Round-trip timing: one segment at a time (Karn).
  RttEstimator rtt_;
  bool timing_ = false;
  uint32_t timed_seq_ = 0;
  uint64_t timed_at_ = 0;

  // Timers: absolute deadlines, 0 when off.
  uint64_t retransmit_at_ = 0;  // also the SYN retransmission
  uint64_t persist_at_ = 0;
  uint64_t delayed_ack_at_ = 0;
  uint64_t keepalive_at_ = 0;
  uint64_t time_wait_at_ = 0;   // also FIN-WAIT-2's orphan timeout
  uint32_t retransmits_ = 0;    // of the current first unacknowledged segment
  uint32_t window_probes_ = 0;     // zero-window probes unanswered
  uint32_t persist_backoff_ = 0;   // probes sent while the window stays closed
  uint32_t keepalive_probes_ = 0;  // keepalive probes unanswered
  uint64_t opened_at_ = 0;         // when the first SYN went out (its round trip)
  uint32_t unacked_segments_ = 0;  // received, not yet acknowledged
  bool ack_now_ = false;
  bool in_input_ = false;       // input() is on the stack: output once at its end
  uint64_t last_heard_ = 0;     // for keepalive

  std::optional<Promise<Connection>> connected_;
};

}  // namespace ebb::net::stack
