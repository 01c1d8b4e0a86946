#pragma once
// Connection: the app's handle on one TCP connection, the same for every
// backend (Linux sockets now, the project's own stack later). A connection
// lives on the core that accepted or opened it; its handle and callbacks are
// used there only.
//
//   conn.on_receive([conn](IOBuf data) mutable { (void)conn.send(std::move(data)); });
//   conn.on_close([](const Status& why) { ... });   // once, at the very end
//
// Backpressure: send() always queues (the data is never dropped), and
// send_full() turns true once more than the high watermark waits for the
// peer; on_writable() runs when the queue has fallen to the low watermark.
// An app that produces without bound checks send_full(); one that relays
// (an echo) pauses its reading with pause_receive() so that its own peer is
// slowed by TCP, and resumes in on_writable().

#include <cstddef>
#include <cstdint>

#include "ebbs/net/address.h"
#include "ebbs/net/iobuf/iobuf.h"
#include "runtime/core.h"
#include "runtime/function.h"
#include "runtime/result.h"

namespace ebb::net {

struct ConnectionOptions {
  std::size_t send_high_watermark = std::size_t{1} << 20;
  std::size_t send_low_watermark = std::size_t{256} << 10;
};

// What a backend implements; apps use Connection.
class ConnectionState {
 public:
  ConnectionState(CoreId core, Endpoint local, Endpoint peer, const ConnectionOptions& options)
      : core_(core), local_(local), peer_(peer), options_(options) {}
  ConnectionState(const ConnectionState&) = delete;
  ConnectionState& operator=(const ConnectionState&) = delete;
  virtual ~ConnectionState() = default;

  virtual Status send(IOBuf&& data) = 0;
  virtual std::size_t send_queued() const = 0;
  virtual void set_receiving(bool on) = 0;
  virtual void shutdown_write() = 0;
  virtual void close() = 0;
  virtual void abort() = 0;

  // ---- for backends ----
  // Hands received bytes to the app.
  void deliver(IOBuf&& data);
  // The peer will send no more (it shut down its side).
  void deliver_end();
  // Tracks the send queue against the watermarks (on_writable on the way down).
  void queue_changed(std::size_t queued);
  // The connection is over: on_close runs once with `why` (ok: an orderly close).
  void finished(const Status& why);
  bool is_finished() const { return finished_; }

 private:
  friend class Connection;
  uint32_t refs_ = 0;
  bool full_ = false;
  bool finished_ = false;

 protected:
  const CoreId core_;
  const Endpoint local_;
  const Endpoint peer_;
  const ConnectionOptions options_;
  Function<void(IOBuf)> on_receive_;
  Function<void()> on_end_;
  Function<void()> on_writable_;
  Function<void(const Status&)> on_close_;
};

class Connection {
 public:
  Connection() = default;
  explicit Connection(ConnectionState* state) : state_(state) { retain(); }
  Connection(const Connection& other) : state_(other.state_) { retain(); }
  Connection(Connection&& other) noexcept : state_(other.state_) { other.state_ = nullptr; }
  Connection& operator=(Connection other) noexcept {
    ConnectionState* old = state_;
    state_ = other.state_;
    other.state_ = old;
    return *this;
  }
  ~Connection() { release(); }
  explicit operator bool() const { return state_ != nullptr; }

  // Received bytes, in order, as they come. Without a handler they are dropped.
  void on_receive(Function<void(IOBuf)> fn) { state_->on_receive_ = std::move(fn); }
  // The peer has shut down its sending side. Without a handler, the
  // connection closes once what was queued is sent.
  void on_end(Function<void()> fn) { state_->on_end_ = std::move(fn); }
  // The send queue has drained to the low watermark after send_full().
  void on_writable(Function<void()> fn) { state_->on_writable_ = std::move(fn); }
  // Once, when the connection is gone: ok after an orderly close, else why
  // (reset by the peer, aborted, an error of the backend).
  void on_close(Function<void(const Status&)> fn) { state_->on_close_ = std::move(fn); }

  // Queues data for the peer; an Error once the connection is closing.
  Status send(IOBuf&& data) { return state_->send(std::move(data)); }
  std::size_t send_queued() const { return state_->send_queued(); }
  bool send_full() const { return state_->full_; }
  // Stops and restarts taking bytes from the peer (TCP slows it meanwhile).
  void pause_receive() { state_->set_receiving(false); }
  void resume_receive() { state_->set_receiving(true); }
  // Half-close: the peer gets end-of-stream after what is queued; receiving
  // goes on.
  void shutdown_write() { state_->shutdown_write(); }
  // Orderly close after what is queued is sent.
  void close() { state_->close(); }
  // Now, discarding what is queued; the peer sees a reset.
  void abort() { state_->abort(); }
  bool closed() const { return state_->finished_; }

  Endpoint local() const { return state_->local_; }
  Endpoint peer() const { return state_->peer_; }
  CoreId core() const { return state_->core_; }

 private:
  void retain() {
    if (state_ != nullptr) ++state_->refs_;
  }
  void release() {
    if (state_ != nullptr && --state_->refs_ == 0) delete state_;
  }
  ConnectionState* state_ = nullptr;
};

}  // namespace ebb::net
