#include "apps/memcached/server/connection.h"

#include <cstdio>
#include <deque>
#include <memory>
#include <string>

#include "apps/memcached/server/session.h"
#include "runtime/spawn.h"

namespace ebb::memcached {

namespace {

using net::IOBuf;
using Outcome = Session::Outcome;

// One TCP client: its session and its connection, kept alive by the
// connection's handlers (dropped when it closes).
class Client : public std::enable_shared_from_this<Client> {
 public:
  Client(Server& server, net::Connection connection)
      : server_(server),
        connection_(std::move(connection)),
        session_(server, connection_.core(), &info_, /*routed=*/true),
        counters_(server.counters[connection_.core()]) {
    counters_.add_connections(1);
    bump_counter(counters_.total_connections);
    info_.peer = connection_.peer();
    info_.local = connection_.local();
    info_.last_command.store(server.store.clock().now(), std::memory_order_relaxed);
    server_.connections.add(connection_.core(), &info_);
  }
  ~Client() {
    server_.connections.remove(connection_.core(), &info_);
    counters_.add_connections(-1);
  }

  void start() {
    std::shared_ptr<Client> self = shared_from_this();
    connection_.on_receive([self](IOBuf&& data) { self->receive(data); });
    connection_.on_writable([self] { self->resume(); });
    connection_.on_close([self](const Status& why) {
      if (self->server_.settings.verbose >= 2)
        std::fprintf(stderr, "ebb-memcached: %s closed%s%s\n",
                     self->connection_.peer().to_string().c_str(), why ? "" : ": ",
                     why ? "" : why.error().message());
    });
  }

 private:
  void receive(const IOBuf& data) {
    IOBuf out;
    Outcome outcome = paused_ ? Outcome::kPaused : Outcome::kDone;
    data.for_each_range([&](const uint8_t* bytes, std::size_t length) {
      if (outcome != Outcome::kDone) [[unlikely]] {
        if (outcome == Outcome::kClose) return;
        // More input while paused, or behind a request that just went to
        // another node (finish() takes that one first): keep it for later.
        if (!session_.stash(bytes, length)) outcome = Outcome::kClose;
        return;
      }
      outcome = session_.receive(bytes, length, out);
    });
    finish(out, outcome);
  }

  // Goes on with input held back while the client was not reading (or
  // while too many of its requests were at other nodes).
  void resume() {
    if (!paused_ || waiting_ || connection_.closed()) return;
    IOBuf out;
    const Outcome outcome = session_.resume(out);
    finish(out, outcome);
  }

  // Replies go out in the requests' order: straight away while no request
  // is at another node, else behind it.
  void deliver(IOBuf&& out) {
    if (out.empty()) return;
    if (away_ == 0) {
      (void)connection_.send(std::move(out));
      return;
    }
    replies_.push_back(std::make_shared<Reply>());
    replies_.back()->bytes = std::move(out);
    replies_.back()->ready = true;
  }

  // Sends the replies at the front that have come.
  void drain() {
    while (!replies_.empty() && replies_.front()->ready) {
      if (!replies_.front()->bytes.empty()) (void)connection_.send(std::move(replies_.front()->bytes));
      replies_.pop_front();
    }
    if (close_when_sent_ && replies_.empty()) connection_.close();
  }

  // A request went to another node: its reply takes its place in line, and
  // the requests after it go on (pipelined) up to kMaxAway at a time.
  void forward() {
    auto slot = std::make_shared<Reply>();
    replies_.push_back(slot);
    ++away_;
    session_.take_reply().on_result([self = shared_from_this(), slot](Result<IOBuf>&& reply) {
      if (reply) slot->bytes = std::move(*reply);
      slot->ready = true;
      --self->away_;
      if (self->connection_.closed()) return;
      self->drain();
      if (self->waiting_ && self->away_ <= kMaxAway / 2) {
        self->waiting_ = false;
        self->resume();
      }
    });
  }

  void finish(IOBuf& out, Outcome outcome) {
    // Requests at other nodes (cluster mode only) put replies in line; a
    // lone server never takes that path.
    if (outcome == Outcome::kWaiting || away_ != 0) [[unlikely]] {
      finish_in_line(out, outcome);
      return;
    }
    if (!out.empty()) (void)connection_.send(std::move(out));
    if (outcome == Outcome::kClose) {
      connection_.close();
      return;
    }
    hold_or_go(outcome);
  }

  [[gnu::noinline]] void finish_in_line(IOBuf& out, Outcome outcome) {
    for (;;) {
      deliver(std::move(out));
      if (outcome == Outcome::kClose) {
        if (replies_.empty()) connection_.close();
        else close_when_sent_ = true;  // after the replies still away
        return;
      }
      if (outcome != Outcome::kWaiting) break;
      forward();
      if (away_ >= kMaxAway) {  // enough in flight: read no more until some come back
        if (!paused_) connection_.pause_receive();
        paused_ = waiting_ = true;
        return;
      }
      out = IOBuf{};
      outcome = session_.resume(out);
    }
    hold_or_go(outcome);
  }

  // Stops reading while replies pile up (kPaused, or a full send queue),
  // and reads again once they went.
  void hold_or_go(Outcome outcome) {
    const bool hold = outcome == Outcome::kPaused || connection_.send_full();
    if (hold != paused_) [[unlikely]] {
      paused_ = hold;  // first: resuming may hand over input at once
      if (hold) connection_.pause_receive();
      else connection_.resume_receive();
    }
    // The send queue has room, so on_writable will not come: go on in a
    // later event, letting other connections run first.
    if (hold && !connection_.send_full()) {
      spawn_local([self = shared_from_this()] { self->resume(); });
    }
  }

  Server& server_;
  net::Connection connection_;
  ConnectionInfo info_;
  Session session_;
  Counters& counters_;
  // A reply in line: bytes, ready once its node answered.
  struct Reply {
    IOBuf bytes;
    bool ready = false;
  };
  static constexpr uint32_t kMaxAway = 64;

  bool paused_ = false;
  bool waiting_ = false;  // kMaxAway requests are at other nodes
  bool close_when_sent_ = false;
  uint32_t away_ = 0;  // requests at other nodes (replies_ is empty when 0)
  std::deque<std::shared_ptr<Reply>> replies_;  // in the requests' order, from the first away
};

uint16_t read_be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

}  // namespace

void serve_connection(Server& server, net::Connection connection) {
  Counters& counters = server.counters[connection.core()];
  if (server.totals().curr_connections >= static_cast<int64_t>(server.settings.max_connections)) {
    bump_counter(counters.rejected_connections);
    // memcached's words when it refuses a connection.
    if (auto reply = IOBuf::CopyOf("ERROR Too many open connections\r\n"))
      (void)connection.send(std::move(*reply));
    connection.close();
    return;
  }
  if (server.settings.verbose >= 2)
    std::fprintf(stderr, "ebb-memcached: new connection from %s on core %u\n",
                 connection.peer().to_string().c_str(), connection.core());
  std::make_shared<Client>(server, std::move(connection))->start();
}

void serve_datagram(Server& server, net::DatagramSocket& socket, net::Endpoint from, IOBuf data) {
  constexpr std::size_t kHeader = 8;
  uint8_t header[kHeader];
  // Only single-datagram requests exist in memcached's UDP protocol.
  if (!data.copy_out(0, header, kHeader) || read_be16(header + 2) != 0 ||
      read_be16(header + 4) != 1)
    return;
  Result<const uint8_t*> bytes = data.gather(data.length());
  if (!bytes) return;
  Session session(server, this_core());
  IOBuf replies;
  Outcome outcome = session.receive(*bytes + kHeader, data.length() - kHeader, replies);
  while (outcome == Outcome::kPaused) outcome = session.resume(replies);
  // Cut the replies into datagrams, each with the request id, its number
  // and the count.
  const std::size_t payload = kUdpDatagramBytes - kHeader;
  const std::size_t total = replies.length();
  const std::size_t count = total == 0 ? 0 : (total + payload - 1) / payload;
  if (count > UINT16_MAX) return;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t here = total - i * payload < payload ? total - i * payload : payload;
    Result<IOBuf> piece = replies.split_front(here);
    if (!piece) return;
    Result<IOBuf> datagram = IOBuf::Create(kHeader, 0);
    if (!datagram) return;
    uint8_t* h = datagram->push_back(kHeader);
    h[0] = header[0];
    h[1] = header[1];
    h[2] = static_cast<uint8_t>(i >> 8);
    h[3] = static_cast<uint8_t>(i);
    h[4] = static_cast<uint8_t>(count >> 8);
    h[5] = static_cast<uint8_t>(count);
    h[6] = h[7] = 0;
    datagram->append(std::move(*piece));
    if (!socket.send_to(from, std::move(*datagram))) return;
  }
}

}  // namespace ebb::memcached
