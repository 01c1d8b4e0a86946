#pragma once
// Bulk transfer helpers for the TCP tests: a sender that writes a pattern
// stream as fast as the connection's backpressure allows, and a receiver
// that checks every byte against the pattern as it arrives.

#include <cstdint>

#include "tests/unit/ebbs/net/stack/sim.h"

namespace ebb::net::stack::testing {

class PatternSender {
 public:
  PatternSender(Connection c, uint64_t total, bool close_when_done = true)
      : conn_(c), total_(total), close_(close_when_done) {
    conn_.on_writable([this] { pump(); });
  }
  ~PatternSender() { Peer::detach(conn_); }
  PatternSender(const PatternSender&) = delete;
  PatternSender& operator=(const PatternSender&) = delete;
  void pump() {
    while (sent_ < total_ && !conn_.send_full() && !conn_.closed()) {
      const uint64_t n = total_ - sent_ < kChunk ? total_ - sent_ : kChunk;
      Result<IOBuf> chunk = IOBuf::Create(n, 128);
      if (!chunk) return;
      uint8_t* p = chunk->push_back(n);
      for (uint64_t i = 0; i < n; ++i) p[i] = pattern_byte(sent_ + i);
      if (!conn_.send(std::move(*chunk))) return;
      sent_ += n;
    }
    if (sent_ == total_ && close_ && !closed_) {
      closed_ = true;
      conn_.shutdown_write();
    }
  }
  uint64_t sent() const { return sent_; }

 private:
  static constexpr uint64_t kChunk = 64 * 1024;
  Connection conn_;
  uint64_t total_;
  uint64_t sent_ = 0;
  bool close_;
  bool closed_ = false;
};

class PatternReceiver {
 public:
  explicit PatternReceiver(Connection c) : conn_(c) {
    conn_.on_receive([this](IOBuf data) {
      data.for_each_range([this](const uint8_t* p, std::size_t n) {
        for (std::size_t i = 0; i < n; ++i)
          if (p[i] != pattern_byte(received_ + i) && mismatch_at_ == UINT64_MAX)
            mismatch_at_ = received_ + i;
        received_ += n;
      });
    });
    conn_.on_end([this] { ended_ = true; });
    conn_.on_close([this](const Status& s) {
      closed_ = true;
      ok_ = s.ok();
    });
  }
  uint64_t received() const { return received_; }
  uint64_t mismatch_at() const { return mismatch_at_; }  // UINT64_MAX: none
  bool ended() const { return ended_; }
  bool closed() const { return closed_; }
  bool closed_ok() const { return closed_ && ok_; }
  Connection& connection() { return conn_; }
  ~PatternReceiver() { Peer::detach(conn_); }
  PatternReceiver(const PatternReceiver&) = delete;
  PatternReceiver& operator=(const PatternReceiver&) = delete;

 private:
  Connection conn_;
  uint64_t received_ = 0;
  uint64_t mismatch_at_ = UINT64_MAX;
  bool ended_ = false;
  bool closed_ = false;
  bool ok_ = false;
};

}  // namespace ebb::net::stack::testing
