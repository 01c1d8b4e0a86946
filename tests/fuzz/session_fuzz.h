#pragma once
// What the ebb-memcached harnesses share: one runtime for the whole process,
// and fuzz_session(), which feeds one input's stream to ebb::memcached::Session
// twice, each time on a fresh store and a fresh session on core 0: once
// whole, once cut as the input says (tests/fuzz/fuzz_input.h). It checks what
// must hold for any input, beyond the sanitizers (a report from ASan or UBSan
// is a crash too):
//
//   - buffering is bounded: after every call, buffered() is at most one
//     request (`request_bound`: a line, or a line and its value) plus the
//     bytes handed over since the session last said kDone;
//   - a paused session makes progress on every resume();
//   - it reads only the piece it is given (each piece is a heap block of
//     its own, freed after the call, for ASan to watch);
//   - the cut does not matter: both feeds give the same reply bytes and the
//     same close decision, as far as the caller's Comparison says and when
//     server time stood still (below).
//
// Why a fresh store for each feed: replies carry CAS values, which come from
// the table's counter, and eviction depends on the table's history; two fresh
// tables that see the same requests give the same CAS values and evict alike.
// Server time is the one input the bytes do not decide (expiry, TTLs in meta
// replies, absolute exptimes against the clock's Unix start), so the two
// feeds are compared only when both clocks read the same server time before
// and after and started in the same Unix second, which holds unless a feed
// straddles a second boundary (rare: a feed takes milliseconds). `stats`
// replies carry rusage and other process state: callers exclude them.
//
// EBB_FUZZ_SHOW=1 in the environment prints each input's replies (whole).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <utility>

#include "apps/memcached/protocol/context.h"
#include "apps/memcached/server/session.h"
#include "ebbs/net/iobuf/iobuf.h"
#include "runtime/runtime.h"
#include "runtime/rcu.h"
#include "tests/fuzz/fuzz_input.h"

namespace ebb::fuzz {

// Limits a 4 KiB input (libFuzzer's default -max_len) can reach: a value
// over the item limit, an append past it, eviction once 16 KiB of items are
// stored (an item costs its ~72-byte header plus key and value: a couple of
// hundred small sets), and a multi-get whose reply passes
// Session::kMaxBatchReply (a thousand hits on a 1 KiB value).
inline constexpr std::size_t kItemSizeMax = 1024;
inline constexpr std::size_t kMemoryLimit = std::size_t{16} << 10;

[[noreturn]] inline void fail(const char* what) {
  std::fprintf(stderr, "\n*** fuzz invariant broken: %s\n", what);
  std::abort();  // libFuzzer reports it as a crash and saves the input
}

// One runtime per process (the runtime allows no more), started by
// LLVMFuzzerInitialize (session_fuzz.cc) and never shut down: libFuzzer ends
// with exit(), and by the time an atexit handler could run
// Runtime::shutdown, static destructors (the Ebb root registry's, made on
// first use) have already run. Not pinned: parallel fuzzing jobs must not all
// crowd CPU 0.
inline Runtime* g_runtime = nullptr;

template <class F>
void on_core0(F&& fn) {
  if (!g_runtime->run_on(0, std::forward<F>(fn)).ok()) fail("run_on(0) failed");
}

// How far a caller holds the two feeds of an input to agree.
enum class Comparison : uint8_t {
  kExact,  // the same replies, the same close decision
  kSkip,   // not compared (replies that tell process state, like stats)
};

struct Feed {
  std::string replies;
  bool closed = false;
  memcached::ServerTime time_before = 0;
  memcached::ServerTime time_after = 0;
  int64_t started_unix = 0;
};

// Feeds the stream to a fresh session on a fresh store: whole, or in the
// input's pieces. On core 0.
inline Feed feed_session(const FuzzInput& input, std::span<const uint8_t> stream, bool whole,
                         std::size_t request_bound) {
  using memcached::Session;
  using Outcome = Session::Outcome;
  memcached::TableOptions table;
  table.memory_limit = kMemoryLimit;
  table.item_size_max = kItemSizeMax;
  memcached::Settings settings;
  settings.cores = 1;
  settings.memory_limit = kMemoryLimit;
  settings.item_size_max = kItemSizeMax;
  // A plain object, not an Ebb: the session only needs the Store&, and an
  // object dies at once with its items (an Ebb's destruction waits for a
  // grace period and would outlive the input).
  auto store = std::make_unique<memcached::Store>(table);
  Feed feed;
  feed.started_unix = store->clock().started_unix();
  feed.time_before = store->clock().now();
  {
    memcached::Server server(settings, *store, 1);
    Session session(server, 0);
    Outcome outcome = Outcome::kDone;
    std::size_t recent = 0;  // bytes handed over since the session last said kDone
    // The connection makes a fresh IOBuf for every call and sends it.
    auto call = [&](auto&& fn) {
      net::IOBuf out;
      outcome = fn(out);
      feed.replies += out.to_string();
      if (outcome == Outcome::kClose) {
        feed.closed = true;
        return;
      }
      if (session.buffered() > request_bound + recent) fail("buffered() past one request");
      if (outcome == Outcome::kDone) recent = 0;
    };
    // What the connection does once the client has read the replies.
    auto settle = [&] {
      while (outcome == Outcome::kPaused) {
        const std::size_t before = session.buffered();
        call([&](net::IOBuf& out) { return session.resume(out); });
        if (outcome == Outcome::kPaused && session.buffered() >= before)
          fail("resume() while paused handled nothing");
      }
    };
    auto give = [&](std::size_t offset, std::size_t length) {
      if (feed.closed) return;
      // Each piece in a heap block of its own size, freed after the call:
      // ASan then sees a read past the piece, or of an earlier piece the
      // session should have copied.
      const std::unique_ptr<uint8_t[]> copy(new uint8_t[length]);
      std::memcpy(copy.get(), stream.data() + offset, length);
      const uint8_t* bytes = copy.get();
      recent += length;
      if (outcome == Outcome::kPaused) {
        if (input.mode) {  // input that arrives while paused waits in the session
          if (!session.stash(bytes, length)) fail("stash() ran out of memory");
          settle();
          return;
        }
        settle();
        if (feed.closed) return;
      }
      call([&](net::IOBuf& out) { return session.receive(bytes, length, out); });
    };
    if (whole) {
      give(0, stream.size());
    } else {
      input.for_each_piece(give);
    }
    if (!feed.closed) settle();
  }
  feed.time_after = store->clock().now();
  return feed;
}

// Where two reply streams first differ, on stderr.
inline void print_difference(const std::string& whole, const std::string& pieces) {
  std::size_t at = 0;
  while (at < whole.size() && at < pieces.size() && whole[at] == pieces[at])
    ++at;
  const std::size_t from = at > 64 ? at - 64 : 0;
  auto show = [&](const char* name, const std::string& s) {
    std::fprintf(stderr, "%s (%zu bytes) from byte %zu: \"", name, s.size(), from);
    for (std::size_t i = from; i < s.size() && i < at + 64; ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
        std::fputc(c, stderr);
      } else {
        std::fprintf(stderr, "\\x%02x", c);
      }
    }
    std::fprintf(stderr, "\"\n");
  };
  std::fprintf(stderr, "replies differ at byte %zu\n", at);
  show("whole", whole);
  show("in pieces", pieces);
}

// One input: both feeds, compared as compare(replies) says for each (the
// looser of the two answers), then two grace periods so that items retired during the input are
// freed before the next one (libFuzzer's leak check counts mallocs and frees
// per input; the second grace period starts after the event that hands the
// input's retired items to call_rcu).
template <class Compare>
void fuzz_session(const FuzzInput& input, std::span<const uint8_t> stream,
                  std::size_t request_bound, Compare&& compare) {
  on_core0([&] {
    const Feed whole = feed_session(input, stream, true, request_bound);
    const Feed pieces = feed_session(input, stream, false, request_bound);
    if (std::getenv("EBB_FUZZ_SHOW") != nullptr) {  // for writing seeds and reading findings
      std::fwrite(whole.replies.data(), 1, whole.replies.size(), stderr);
      std::fprintf(stderr, "[%s]\n", whole.closed ? "closed" : "open");
    }
    const bool time_stood_still =
        whole.time_before == whole.time_after && pieces.time_before == pieces.time_after &&
        whole.time_before == pieces.time_before && whole.started_unix == pieces.started_unix;
    // Both, always: a caller may check the replies on the way.
    const Comparison comparison = std::max(compare(whole.replies), compare(pieces.replies));
    if (!time_stood_still || comparison == Comparison::kSkip) return;
    if (whole.replies == pieces.replies && whole.closed == pieces.closed) return;
    print_difference(whole.replies, pieces.replies);
    std::fprintf(stderr, "whole %s, in pieces %s\n", whole.closed ? "closed" : "open",
                 pieces.closed ? "closed" : "open");
    fail("the same bytes in pieces gave other replies than whole");
  });
  on_core0([] {
    (void)synchronize_rcu();
    (void)synchronize_rcu();
  });
}

}  // namespace ebb::fuzz
