#pragma once
// TcpLayer: one core's TCP — its connections (a table by 4-tuple), its
// listeners (each with a bounded half-open count against SYN floods), the
// replies to segments that match nothing (RST, RFC 9293 3.10.7.1), and one
// heap of timer deadlines for all its connections.

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "ebbs/net/connection.h"
#include "ebbs/net/iobuf/iobuf.h"
#include "ebbs/net/stack/tcp/segment.h"
#include "runtime/function.h"
#include "runtime/future.h"

namespace ebb::net::stack {

class Engine;
class TcpConnection;

class TcpLayer {
 public:
  explicit TcpLayer(Engine& engine);
  ~TcpLayer();
  TcpLayer(const TcpLayer&) = delete;
  TcpLayer& operator=(const TcpLayer&) = delete;

  // A segment for us: from its TCP header on, checksum not yet checked.
  void input(IOBuf&& segment, uint32_t source_ip, uint32_t destination_ip);

  // Accepts connections to `port` on this core.
  Status listen(uint16_t port, Function<void(Connection)> on_accept,
                const ConnectionOptions& options);
  // Stops accepting (connections already made go on).
  bool unlisten(uint16_t port);
  // Opens a connection from this core: from `local_port`, or (0) from a
  // free port whose flow hash picks this core.
  Future<Connection> connect(Endpoint peer, const ConnectionOptions& options,
                             uint16_t local_port = 0);

  void run_timers(uint64_t now);
  // Resets every connection (the engine is going away).
  void abort_all();
  uint64_t next_deadline() const;

  std::size_t connection_count() const { return flows_.size(); }
  std::size_t time_wait_count() const { return time_wait_count_; }
  std::size_t half_open(uint16_t port) const;
  // Calls f(TcpConnection&) for every connection (tests, stats).
  template <class F>
  void for_each(F&& f) const {
    for (const auto& [key, c] : flows_) f(*c);
  }

  // ---- for TcpConnection ----
  Engine& engine() { return engine_; }
  void schedule(TcpConnection& c);
  void established(TcpConnection& c);  // a passive open completed
  void entered_time_wait(TcpConnection& c);
  void forget(TcpConnection& c);       // closed: out of every table
  // A segment with the headers in front of `payload` (which has room for
  // them, or none: a header buffer is made).
  void send(uint32_t remote_ip, uint16_t local_port, uint16_t remote_port, uint32_t seq,
            uint32_t ack, uint8_t flags, uint16_t window, const uint8_t* options,
            uint32_t options_length, IOBuf&& payload);
  uint32_t initial_sequence(uint32_t remote_ip, uint16_t remote_port, uint16_t local_port);

 private:
  struct Listener {
    Function<void(Connection)> on_accept;
    ConnectionOptions options;
    uint32_t half_open = 0;
  };
  void input_listen(Listener& listener, TcpSegment& seg, uint32_t local_ip);
  void reset_for(const TcpSegment& seg);
  void release_half_open(TcpConnection& c);
  // The timer heap: connections by their earliest deadline, each at most
  // once (TcpConnection::heap_index). A deadline that moves later stays
  // where it was (the timer runs early, finds nothing due, and is put back):
  // restarting the RTO on every ACK then costs nothing.
  void heap_remove(TcpConnection& c);
  void heap_up(uint32_t i);
  void heap_down(uint32_t i);
  void heap_set(uint32_t i, TcpConnection* c);

  Engine& engine_;
  std::unordered_map<uint64_t, TcpConnection*> flows_;  // holds a reference each
  std::unordered_map<uint16_t, Listener> listeners_;
  std::vector<TcpConnection*> heap_;
  TcpConnection* time_wait_head_ = nullptr;
  TcpConnection* time_wait_tail_ = nullptr;
  std::size_t time_wait_count_ = 0;
  uint16_t next_port_ = 0;
  uint64_t isn_secret_[2];
};

}  // namespace ebb::net::stack
