#pragma once
// Session: one client connection's protocol state, independent of the
// network: bytes in, replies out. The first byte a client sends picks the
// protocol (0x80: binary; anything else: ASCII, whose lines starting with
// "m" are meta commands), as memcached does.
//
// Input is handled in place when a request lies whole within what arrived;
// the rest waits in a buffer of the session's own, which never holds more
// than one request (a line, or a value up to the item size limit) plus what
// arrived with it. Refused values are skipped, not buffered.

#include <cstddef>
#include <cstdint>
#include <optional>

#include "apps/memcached/protocol/context.h"
#include "ebbs/net/iobuf/iobuf.h"
#include "runtime/future.h"

namespace ebb::memcached {

class Session {
 public:
  // Replies past this size end a batch: the connection sends them and
  // waits for the client to read before handling more (bounded memory for
  // clients that pipeline without reading).
  static constexpr std::size_t kMaxBatchReply = std::size_t{1} << 20;

  enum class Outcome : uint8_t {
    kDone,    // everything received is handled (or waits for more input)
    kPaused,  // the reply grew past kMaxBatchReply: send it, then call resume()
    kClose,   // send what `out` holds, then close
    kWaiting, // a request went to another node: send `out`, hold further
              // input, append take_reply()'s bytes when they come, then resume()
  };

  // `connection` (may be null): the client's entry for `stats conns`.
  // `routed`: in cluster mode, requests for other nodes' keys go there
  // (a session that runs requests another node sent is not routed).
  Session(Server& server, CoreId core, ConnectionInfo* connection = nullptr, bool routed = false);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Bytes from the client; replies are appended to `out`.
  Outcome receive(const uint8_t* data, std::size_t length, net::IOBuf& out);
  // Goes on with buffered input after kPaused.
  Outcome resume(net::IOBuf& out) { return receive(nullptr, 0, out); }
  // Keeps bytes for later without handling any (more input while paused);
  // false when memory ran out (close).
  bool stash(const uint8_t* data, std::size_t length);
  std::size_t buffered() const { return size_ - start_; }
  // After kWaiting: the reply of the request that went to another node.
  Future<net::IOBuf> take_reply() { return std::move(*reply_); }

 private:
  enum class Protocol : uint8_t { kUnknown, kAscii, kBinary };
  // Handles requests from [data, data + length); how much it used.
  std::size_t handle(const uint8_t* data, std::size_t length, net::IOBuf& out, Outcome* outcome);
  bool buffer(const uint8_t* data, std::size_t length);
  // Drops what is left of a refused value from the front of new input.
  void skip_swallowed(const uint8_t*& data, std::size_t& length);

  Server& server_;
  Counters& counters_;
  ConnectionInfo* connection_;
  Protocol protocol_ = Protocol::kUnknown;
  uint8_t* buffer_ = nullptr;  // unhandled input: [start_, size_)
  std::size_t start_ = 0;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
  std::size_t need_ = 0;     // bytes the buffered request needs in all (0: unknown)
  std::size_t swallow_ = 0;  // input still to discard
  bool closing_ = false;
  bool routed_ = false;
  std::optional<Future<net::IOBuf>> reply_;
};

}  // namespace ebb::memcached
