#include "apps/loadgen/client.h"

#include <cstdio>

#include "runtime/platform.h"

namespace ebb::loadgen {

Counters& Counters::operator+=(const Counters& o) {
  sent += o.sent;
  completed += o.completed;
  gets += o.gets;
  sets += o.sets;
  hits += o.hits;
  misses += o.misses;
  stored += o.stored;
  not_stored += o.not_stored;
  errors += o.errors;
  dropped += o.dropped;
  lost += o.lost;
  unfinished += o.unfinished;
  return *this;
}

void Recorder::begin(uint32_t run, uint64_t measure_from_ns, uint64_t measure_until_ns) {
  run_ = run;
  from_ns_ = measure_from_ns;
  until_ns_ = measure_until_ns;
  counters = Counters();
  histogram.clear();
  send_lag.clear();
  replies = 0;
}

ClientConnection::ClientConnection(net::Connection connection, const Workload& workload,
                                   Recorder& recorder, uint32_t pipeline,
                                   Function<void(ClientConnection&, uint32_t)> on_replies,
                                   Function<void(ClientConnection&)> on_failed)
    : connection_(std::move(connection)),
      workload_(workload),
      recorder_(recorder),
      pipeline_(pipeline),
      on_replies_(std::move(on_replies)),
      on_failed_(std::move(on_failed)) {
  // The handlers hold `this`: the driver keeps every ClientConnection until
  // its connection has closed (close() waits for on_close).
  connection_.on_receive([this](net::IOBuf data) { on_data(data); });
  connection_.on_end([this] { fail("the server closed the connection"); });
  connection_.on_close([this](const Status& why) { on_closed(why); });
}

bool ClientConnection::enqueue(const Pending& request) {
  if (waiting_.size() >= kMaxWaiting) return false;
  waiting_.push_back(request);
  return true;
}

void ClientConnection::flush() {
  if (!alive_ || closing_ || waiting_.empty() || in_flight_.size() >= pipeline_) return;
  Result<net::IOBuf> created = net::IOBuf::Create(4096);
  if (!created) return;  // out of memory: the next reply or tick tries again
  net::IOBuf batch = std::move(*created);
  const uint64_t now = platform::now_ns();
  char key[etc::kMaxKeySize + 16];
  while (!waiting_.empty() && in_flight_.size() < pipeline_) {
    const Pending& p = waiting_.front();
    const std::string_view name(key, workload_.format_key(p.key, key));
    const Status written =
        p.op == Op::kGet ? write_get(batch, name) : write_set(batch, name, p.value_size);
    if (!written) break;
    in_flight_.push_back(InFlight{p.intended_ns, p.run, p.op});
    if (recorder_.counts(p.run, p.intended_ns)) {
      ++recorder_.counters.sent;
      recorder_.send_lag.record(now > p.intended_ns ? now - p.intended_ns : 0);
    }
    waiting_.pop_front();
  }
  if (batch.empty()) return;
  if (!connection_.send(std::move(batch))) fail("the connection closed under a send");
}

uint64_t ClientConnection::drop_waiting() {
  uint64_t counted = 0;
  for (const Pending& p : waiting_)
    if (recorder_.counts(p.run, p.intended_ns)) ++counted;
  waiting_.clear();
  recorder_.counters.unfinished += counted;
  return counted;
}

uint64_t ClientConnection::in_flight_counted() const {
  uint64_t counted = 0;
  for (const InFlight& f : in_flight_)
    if (recorder_.counts(f.run, f.intended_ns)) ++counted;
  return counted;
}

void ClientConnection::on_data(const net::IOBuf& data) {
  if (!alive_) return;
  // One clock read per arrival: every reply in it came back at this moment.
  const uint64_t now = platform::now_ns();
  uint32_t replies = 0;
  bool stray = false;
  data.for_each_range([&](const uint8_t* bytes, std::size_t n) {
    if (stray || parser_.broken()) return;
    parser_.feed(bytes, n, [&](Reply reply) {
      if (in_flight_.empty()) {
        stray = true;
        return;
      }
      on_reply(reply, now);
      ++replies;
    });
  });
  if (parser_.broken()) {
    char why[160];
    std::snprintf(why, sizeof why, "unreadable reply stream: %s", parser_.error());
    fail(why);
    return;
  }
  if (stray) {
    fail("a reply to no request (the server sent more replies than requests)");
    return;
  }
  if (replies != 0) on_replies_(*this, replies);
}

void ClientConnection::on_reply(Reply reply, uint64_t now_ns) {
  const InFlight f = in_flight_.front();
  in_flight_.pop_front();
  if (f.run == recorder_.run()) ++recorder_.replies;
  if (!recorder_.counts(f.run, f.intended_ns)) return;
  Counters& c = recorder_.counters;
  ++c.completed;
  recorder_.histogram.record(now_ns > f.intended_ns ? now_ns - f.intended_ns : 0);
  if (f.op == Op::kGet) {
    ++c.gets;
    if (reply == Reply::kHit)
      ++c.hits;
    else if (reply == Reply::kMiss)
      ++c.misses;
    else
      ++c.errors;  // an error, or a set's reply to a get: counted, never fatal
  } else {
    ++c.sets;
    if (reply == Reply::kStored)
      ++c.stored;
    else if (reply == Reply::kNotStored)
      ++c.not_stored;
    else
      ++c.errors;
  }
}

void ClientConnection::fail(const char* why) {
  if (!alive_) return;
  alive_ = false;
  failure_ = why;
  for (const Pending& p : waiting_)
    if (recorder_.counts(p.run, p.intended_ns)) ++recorder_.counters.lost;
  for (const InFlight& f : in_flight_)
    if (recorder_.counts(f.run, f.intended_ns)) ++recorder_.counters.lost;
  waiting_.clear();
  in_flight_.clear();
  connection_.abort();
  on_failed_(*this);
}

void ClientConnection::on_closed(const Status& why) {
  if (alive_ && !closing_) {
    char text[kErrorTextSize];
    char line[kErrorTextSize + 32];
    if (why)
      std::snprintf(line, sizeof line, "the server closed the connection");
    else
      std::snprintf(line, sizeof line, "connection failed: %s",
                    why.error().describe(text, sizeof text));
    fail(line);
  }
  alive_ = false;
  closed_ = true;
  if (on_closed_) {
    Function<void()> done = std::move(on_closed_);
    done();
  }
}

void ClientConnection::close(Function<void()> done) {
  closing_ = true;
  if (closed_) {
    done();
    return;
  }
  on_closed_ = std::move(done);
  connection_.close();
}

}  // namespace ebb::loadgen
