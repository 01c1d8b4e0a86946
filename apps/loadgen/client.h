#pragma once
// One client connection to the server, and what a core records about the
// replies it gets.
//
// A request goes through two queues: `waiting` (its time has come but the
// connection already has `pipeline` requests outstanding) and `in flight`
// (sent; replies come back in order). Each keeps the request's intended
// send time, so a request that waited behind a slow server is charged for
// the wait: latency counts from when it should have gone out, not from when
// the connection got round to it (no coordinated omission).
//
// Everything here lives on one core, as its connection does.

#include <cstdint>
#include <deque>
#include <string>

#include "apps/loadgen/histogram.h"
#include "apps/loadgen/protocol.h"
#include "apps/loadgen/workload.h"
#include "ebbs/net/connection.h"
#include "runtime/function.h"

namespace ebb::loadgen {

// What a run counts, per core; merged over cores for the report.
struct Counters {
  uint64_t sent = 0;       // requests written to the server
  uint64_t completed = 0;  // replies received (each also in the histogram)
  uint64_t gets = 0;
  uint64_t sets = 0;
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t stored = 0;
  uint64_t not_stored = 0;
  uint64_t errors = 0;      // ERROR, CLIENT_ERROR, SERVER_ERROR, or a reply of the wrong kind
  uint64_t dropped = 0;     // never queued: the connection's queue was full (far past capacity)
  uint64_t lost = 0;        // queued or in flight on a connection that failed
  uint64_t unfinished = 0;  // no reply by the end of the run's drain time

  Counters& operator+=(const Counters& other);
};

// A core's record of the current run. A request counts when it belongs to
// the run and was intended inside the measured window: warm-up requests,
// and late replies to an earlier run, are left out.
class Recorder {
 public:
  void begin(uint32_t run, uint64_t measure_from_ns, uint64_t measure_until_ns);
  // The run is over: nothing counts any more (its counters stay to be read).
  void close() { run_ = kNoRun; }
  bool counts(uint32_t run, uint64_t intended_ns) const {
    return run == run_ && intended_ns >= from_ns_ && intended_ns < until_ns_;
  }
  uint32_t run() const { return run_; }

  Counters counters;
  LatencyHistogram histogram;
  // How late requests went out after their intended time: the load
  // generator's own delay (a full pipeline, a busy or descheduled core).
  LatencyHistogram send_lag;
  uint64_t replies = 0;  // every reply of the run, warm-up included (for progress)

 private:
  static constexpr uint32_t kNoRun = UINT32_MAX;
  uint32_t run_ = kNoRun;
  uint64_t from_ns_ = 0;
  uint64_t until_ns_ = 0;
};

// A request whose time has come.
struct Pending {
  uint64_t intended_ns;
  uint64_t key;
  uint32_t value_size;
  uint32_t run;
  Op op;
};

class ClientConnection {
 public:
  // Past this many waiting requests, new ones are dropped (and counted): an
  // open-loop run far beyond the server's capacity would otherwise grow
  // without bound.
  static constexpr std::size_t kMaxWaiting = 1 << 16;

  // on_replies(conn, n): n replies were just handled (the driver refills a
  // closed loop or checks for the end). on_failed(conn): the connection is
  // gone without being asked to close; failure() says why.
  ClientConnection(net::Connection connection, const Workload& workload, Recorder& recorder,
                   uint32_t pipeline, Function<void(ClientConnection&, uint32_t)> on_replies,
                   Function<void(ClientConnection&)> on_failed);
  ClientConnection(const ClientConnection&) = delete;
  ClientConnection& operator=(const ClientConnection&) = delete;

  // Queues a request; false (and not queued) when the queue is full.
  bool enqueue(const Pending& request);
  // Sends waiting requests, in one write, while fewer than `pipeline` are out.
  void flush();
  // Drops what still waits (the end of a run), counting it unfinished;
  // returns how many counted.
  uint64_t drop_waiting();
  // Requests in flight that the current run counts.
  uint64_t in_flight_counted() const;

  std::size_t outstanding() const { return in_flight_.size(); }
  std::size_t waiting() const { return waiting_.size(); }
  bool alive() const { return alive_; }
  const std::string& failure() const { return failure_; }

  // Closes the connection (orderly); done() runs once it is closed.
  void close(Function<void()> done);

 private:
  struct InFlight {
    uint64_t intended_ns;
    uint32_t run;
    Op op;
  };
  void on_data(const net::IOBuf& data);
  void on_reply(Reply reply, uint64_t now_ns);
  void fail(const char* why);
  void on_closed(const Status& why);

  net::Connection connection_;
  const Workload& workload_;
  Recorder& recorder_;
  const uint32_t pipeline_;
  Function<void(ClientConnection&, uint32_t)> on_replies_;
  Function<void(ClientConnection&)> on_failed_;
  Function<void()> on_closed_;
  ReplyParser parser_;
  std::deque<Pending> waiting_;
  std::deque<InFlight> in_flight_;
  bool alive_ = true;
  bool closing_ = false;
  bool closed_ = false;  // on_close has run
  std::string failure_;
};

}  // namespace ebb::loadgen
