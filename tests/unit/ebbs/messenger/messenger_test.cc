// The Messenger between nodes of one process: each node is a Messenger Ebb
// with its own listener on loopback, so every frame crosses Linux's TCP.
// Misbehaving peers are played by plain sockets on the test's thread.

#include "ebbs/messenger/messenger.h"

#include "ebbs/messenger/distributed_ebb.h"
#include "ebbs/messenger/id_map.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <set>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "ebbs/net/posix/tcp.h"
#include "runtime/bytes.h"
#include "tests/support/runtime_fixture.h"
#include "tests/support/sockets.h"

namespace ebb::messenger {
namespace {

using net::IOBuf;
using std::chrono::milliseconds;

constexpr uint16_t kEcho = 1000;    // answers "<node>:<payload>"
constexpr uint16_t kFail = 1001;    // fails with kExhausted, value 42
constexpr uint16_t kDrop = 1002;    // drops the request unanswered
constexpr uint16_t kStash = 1003;   // keeps the request, answers when told
constexpr uint16_t kNote = 1004;    // one-way: counts
constexpr EbbId kService = kFirstAppClusterId + 1;
constexpr int kNodes = 3;

std::atomic<EbbId> g_messenger[kNodes];
std::atomic<int> g_notes{0};
// kStash requests, kept on their core until the test lets them go.
std::atomic<std::vector<Responder>*> g_stash[8];

IOBuf text(const std::string& s) { return IOBuf::CopyOf(s.data(), s.size(), 64).value(); }

void serve(void* context, Frame&& frame, Responder responder) {
  const auto node = static_cast<NodeId>(reinterpret_cast<uintptr_t>(context));
  switch (frame.header.type) {
    case kEcho:
      responder.respond(text(std::to_string(node) + ":" + frame.payload.to_string()));
      return;
    case kFail:
      responder.fail(Error(Errc::kExhausted, "full", 42));
      return;
    case kDrop:
      return;
    case kStash:
      if (g_stash[this_core()].load() == nullptr) g_stash[this_core()] = new std::vector<Responder>;
      g_stash[this_core()].load()->push_back(std::move(responder));
      return;
    case kNote:
      ++g_notes;
      return;
  }
}

Future<net::Connection> dial_posix(net::Endpoint to) { return net::posix::connect(to); }

// A loopback listener Linux completes handshakes for but nobody reads: a
// node that hangs.
struct SilentListener {
  int fd = -1;
  uint16_t port = 0;
  SilentListener() {
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(net::Endpoint::kLoopback);
    EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(listen(fd, 16), 0);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~SilentListener() { ::close(fd); }
};

int dial_raw(uint16_t port) { return ebb::testing::dial_loopback(port); }

class MessengerTest : public testing::RuntimeFixture {
 protected:
  void SetUp() override {
    g_notes = 0;
    for (auto& s : g_stash) s = nullptr;
    start(2);
  }
  void TearDown() override {
    for (int n = 0; n < kNodes; ++n)
      if (ids_[n] != kNullEbbId) stop_node(n);
    for (int c = 0; c < 2; ++c)
      if (g_stash[c] != nullptr) run(c, [c] {
          delete g_stash[c].load();
          g_stash[c] = nullptr;
        });
    stop();
  }

  // Listeners for every node first (their ports make the membership).
  void listen_all() {
    for (int n = 0; n < kNodes; ++n) {
      auto l = on_core(0, [n] {
        net::posix::ListenOptions options;
        options.ip = net::Endpoint::kLoopback;
        return net::posix::listen(
            0, [n](net::Connection c) { Ref<Messenger>(g_messenger[n].load())->accept(std::move(c)); }, options);
      });
      ASSERT_TRUE(l.ok());
      listeners_[n] = std::make_unique<net::posix::Listener>(*l);
      members_.push_back({static_cast<NodeId>(n), {net::Endpoint::kLoopback, l->port()}});
    }
  }
  MessengerConfig config(NodeId self) {
    MessengerConfig c;
    c.self = self;
    c.members = members_;
    c.dial = &dial_posix;
    c.call_timeout = milliseconds(400);
    c.heartbeat_interval = milliseconds(50);
    c.peer_dead_after = milliseconds(300);
    c.reconnect_min = milliseconds(10);
    c.reconnect_max = milliseconds(100);
    return c;
  }
  void start_node(int n, MessengerConfig c) {
    auto id = on_core(0, [c = std::move(c), n]() mutable -> Result<EbbId> {
      Result<Ref<Messenger>> m = Messenger::Create(std::move(c));
      if (!m) return m.error();
      MessengerRoot& root = (*m)->root();
      for (uint16_t t : {kEcho, kFail, kDrop, kStash, kNote}) (void)root.add_type({.id = t, .name = "test"});
      (void)root.add_handler(kService, {&serve, reinterpret_cast<void*>(static_cast<uintptr_t>(n))});
      return m->id();
    });
    ASSERT_TRUE(id.ok());
    ids_[n] = *id;
    g_messenger[n] = *id;
  }
  void start_all() {
    listen_all();
    for (int n = 0; n < kNodes; ++n) start_node(n, config(static_cast<NodeId>(n)));
  }
  void stop_node(int n) {
    const EbbId id = ids_[n];
    run(0, [id] { return MulticoreEbb<Messenger, MessengerRoot>::RootOf(id).value()->stop(); });
    if (listeners_[n]) run(0, [l = *listeners_[n]]() mutable { return l.close(); });
    listeners_[n].reset();
    ids_[n] = kNullEbbId;
  }
  Result<std::string> call(CoreId core, int from, NodeId to, uint16_t type, const std::string& payload,
                           uint16_t version = 1, EbbId ebb = kService) {
    const EbbId id = ids_[from];
    auto r = on_core(core, [=] { return Ref<Messenger>(id)->call(to, ebb, type, version, text(payload)); });
    if (!r) return r.error();
    return r->to_string();
  }
  // n kEcho calls from node `from` to node `to`, all made in one event on
  // `core` (payloads "0" .. "n-1"); each must come back as "<to>:<i>".
  void echo_burst(CoreId core, int from, NodeId to, int n) {
    const EbbId id = ids_[from];
    auto all = on_core(core, [id, to, n] {
      std::vector<Future<IOBuf>> calls;
      for (int i = 0; i < n; ++i) calls.push_back(Ref<Messenger>(id)->call(to, kService, kEcho, 1, text(std::to_string(i))));
      return when_all(std::move(calls));
    });
    ASSERT_TRUE(all.ok());
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE((*all)[i].ok());
      EXPECT_EQ((*all)[i]->to_string(), std::to_string(to) + ":" + std::to_string(i));
    }
  }
  MessengerCounters counters(int n) {
    const EbbId id = ids_[n];
    return on_core(0, [id] { return MulticoreEbb<Messenger, MessengerRoot>::RootOf(id).value()->counters(); })
        .value();
  }
  template <class P>
  bool eventually(P pred) {
    for (int i = 0; i < 5000 && !pred(); ++i) std::this_thread::sleep_for(milliseconds(1));
    return pred();
  }

  EbbId ids_[kNodes] = {};
  std::unique_ptr<net::posix::Listener> listeners_[kNodes];
  std::vector<Member> members_;
};

TEST_F(MessengerTest, CallsReachTheNodeAndComeBackOnEveryCore) {
  start_all();
  for (CoreId core = 0; core < 2; ++core)
    for (NodeId to = 0; to < kNodes; ++to) {
      Result<std::string> r = call(core, 0, to, kEcho, "hi " + std::to_string(core));
      ASSERT_TRUE(r.ok()) << "core " << core << " to node " << to;
      EXPECT_EQ(*r, std::to_string(to) + ":hi " + std::to_string(core));
    }
  // Many calls in flight at once, answered each to its own caller.
  echo_burst(1, 1, 2, 200);
  const EbbId id = ids_[1];
  // One-way messages arrive too.
  run(0, [id] {
    for (int i = 0; i < 10; ++i) EXPECT_TRUE(Ref<Messenger>(id)->send(0, kService, kNote, 1, text("n")).ok());
  });
  EXPECT_TRUE(eventually([] { return g_notes.load() == 10; }));
  EXPECT_EQ(counters(1).failed_calls, 0u);
}

// What one turn of a core sends to a peer goes in one write, and the
// answers to that burst come back in fewer writes than answers.
TEST_F(MessengerTest, ABurstOfCallsIsOneWriteAndItsAnswersAreBatchedToo) {
  start_all();
  ASSERT_TRUE(call(0, 0, 1, kEcho, "connect").ok());  // the hello and its wait are behind us
  const uint64_t sent0 = counters(0).batches_sent, sent1 = counters(1).batches_sent;
  echo_burst(0, 0, 1, 32);
  EXPECT_EQ(counters(0).batches_sent - sent0, 1u);  // 32 requests, one write
  const uint64_t answers = counters(1).batches_sent - sent1;
  EXPECT_GE(answers, 1u);
  EXPECT_LT(answers, 32u);  // as many as the reads that brought the requests
}

TEST_F(MessengerTest, UnknownTypesVersionsAndEbbsAreRefusedByNameAndTheLinkGoesOn) {
  start_all();
  Result<std::string> r = call(0, 0, 1, 4242, "x");
  ASSERT_FALSE(r.ok());
  EXPECT_STREQ(r.error().message(), "messenger: the peer does not know this message type");
  EXPECT_EQ(r.error().value(), 4242);

  r = call(0, 0, 1, kEcho, "x", /*version=*/7);
  ASSERT_FALSE(r.ok());
  EXPECT_STREQ(r.error().message(), "messenger: the peer does not speak this version of the message type");
  EXPECT_EQ(r.error().value(), 7);

  r = call(0, 0, 1, kEcho, "x", 1, /*ebb=*/0x80000099);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kNoSuchEbb);
  EXPECT_EQ(r.error().value(), 0x80000099);

  // The same refusals for a call to this node itself.
  r = call(0, 0, 0, 4242, "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().value(), 4242);

  EXPECT_EQ(*call(0, 0, 1, kEcho, "still"), "1:still");
  const MessengerCounters c = counters(1);
  EXPECT_EQ(c.unknown_type, 2u);
  EXPECT_EQ(c.unknown_ebb, 1u);
}

TEST_F(MessengerTest, HandlerErrorsAndDroppedRequestsReachTheCaller) {
  start_all();
  Result<std::string> r = call(0, 0, 2, kFail, "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kExhausted);
  EXPECT_EQ(r.error().value(), 42);
  EXPECT_STREQ(r.error().message(), "messenger: the peer's handler failed");

  r = call(1, 0, 2, kDrop, "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kBrokenPromise);
  r = call(1, 0, 0, kDrop, "");  // to itself
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kBrokenPromise);
}

TEST_F(MessengerTest, AnUnansweredCallTimesOutAndItsLateAnswerIsDropped) {
  start_all();
  Result<std::string> r = call(0, 0, 1, kStash, "wait");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kTimedOut);
  // Answer it now: the caller counts a late response and nothing else.
  for (CoreId c = 0; c < 2; ++c)
    run(c, [c] {
      std::vector<Responder>* stash = g_stash[c].load();
      if (stash == nullptr) return;
      for (Responder& s : *stash) s.respond(text("late"));
      stash->clear();
    });
  EXPECT_TRUE(eventually([&] { return counters(0).late_responses == 1; }));
  EXPECT_EQ(counters(0).timeouts, 1u);
  EXPECT_EQ(*call(0, 0, 1, kEcho, "after"), "1:after");
}

TEST_F(MessengerTest, ADeadNodeFailsCallsAtOnceAndIsReconnectedWhenItReturns) {
  start_all();
  ASSERT_TRUE(call(0, 0, 2, kEcho, "a").ok());
  // A call waiting on node 2 when it goes away fails, and so do new ones.
  const EbbId id = ids_[0];
  auto waiting = std::make_shared<std::optional<Future<IOBuf>>>();
  run(0, [id, waiting] { waiting->emplace(Ref<Messenger>(id)->call(2, kService, kStash, 1, text("w"))); });
  EXPECT_TRUE(eventually([] { return g_stash[0].load() != nullptr || g_stash[1].load() != nullptr; }));
  const uint16_t port = members_[2].address.port;
  stop_node(2);
  auto failed = on_core(0, [waiting] { return std::move(**waiting); });
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code(), Errc::kUnreachable);
  Result<std::string> r = call(0, 0, 2, kEcho, "b");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kUnreachable);

  // Node 2 comes back at its address: the next calls go through.
  auto l = on_core(0, [port] {
    net::posix::ListenOptions options;
    options.ip = net::Endpoint::kLoopback;
    return net::posix::listen(
        port, [](net::Connection c) { Ref<Messenger>(g_messenger[2].load())->accept(std::move(c)); }, options);
  });
  ASSERT_TRUE(l.ok());
  listeners_[2] = std::make_unique<net::posix::Listener>(*l);
  start_node(2, config(2));
  bool back = false;
  for (int i = 0; i < 100 && !back; ++i) {
    r = call(0, 0, 2, kEcho, "c");
    back = r.ok() && *r == "2:c";
    if (!back) std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_TRUE(back);
  EXPECT_GE(counters(0).peer_losses, 1u);
  EXPECT_GE(counters(0).connects, 2u);
}

TEST_F(MessengerTest, HeartbeatsFindANodeThatHangsAndWatchingKnowsWhoIsReachable) {
  SilentListener hung;
  listen_all();
  members_[2].address.port = hung.port;  // node 2 accepts connections and never answers
  MessengerConfig c = config(0);
  c.call_timeout = milliseconds(5000);  // so that it is the heartbeats that notice
  start_node(0, std::move(c));
  start_node(1, config(1));
  const EbbId id = ids_[0];
  run(0, [id] { Ref<Messenger>(id)->watch_peers(); });
  EXPECT_TRUE(eventually([id] {
    return MulticoreEbb<Messenger, MessengerRoot>::RootOf(id).value()->reachable(1);
  }));
  Result<std::string> r = call(0, 0, 2, kEcho, "anyone?");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kTimedOut);
  EXPECT_STREQ(r.error().message(), "messenger: the node stopped answering");
  MessengerRoot* root = MulticoreEbb<Messenger, MessengerRoot>::RootOf(id).value();
  EXPECT_FALSE(root->reachable(2));
  EXPECT_TRUE(root->reachable(1));
  EXPECT_TRUE(root->reachable(0));
  EXPECT_GE(counters(0).heartbeats, 1u);
  // Node 1 goes away: the watcher sees it.
  stop_node(1);
  EXPECT_TRUE(eventually([root] { return !root->reachable(1); }));
}

TEST_F(MessengerTest, ANodeOfAnotherClusterOrAtAnotherAddressIsRefused) {
  listen_all();
  start_node(0, config(0));
  MessengerConfig other = config(1);
  other.members.push_back({7, {net::Endpoint::kLoopback, 1}});  // another cluster's membership
  start_node(1, std::move(other));
  Result<std::string> r = call(0, 1, 0, kEcho, "let me in");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kUnreachable);
  EXPECT_GE(counters(0).refused_peers, 1u);  // node 0 refused the hello
  EXPECT_GE(counters(1).refused_peers, 1u);  // node 1 was told
}

TEST_F(MessengerTest, GarbageAndStrangersAreRefusedAndTheNodeServesOn) {
  start_all();
  // Not the Messenger's framing at all.
  const int junk = dial_raw(members_[1].address.port);
  ASSERT_GE(junk, 0);
  ASSERT_EQ(::send(junk, "GET / HTTP/1.0\r\n\r\n", 18, MSG_NOSIGNAL), 18);
  char b;
  EXPECT_LE(::recv(junk, &b, 1, 0), 0);  // closed on us
  ::close(junk);
  // A well-formed hello from a node that is not a member.
  const int stranger = dial_raw(members_[1].address.port);
  uint8_t frame[kFrameHeaderBytes + 14] = {};
  store32(frame, kFrameMagic);
  frame[4] = kFramingVersion;
  store16(frame + 6, kTypeHello);
  store16(frame + 8, 1);
  store16(frame + 16, 9);  // node 9
  store16(frame + 18, 1);
  store64(frame + 20, 1);
  store32(frame + 28, 14);
  store16(frame + 32, 9);
  ASSERT_EQ(::send(stranger, frame, sizeof frame, MSG_NOSIGNAL), static_cast<ssize_t>(sizeof frame));
  uint8_t answer[kFrameHeaderBytes];
  ASSERT_EQ(::recv(stranger, answer, sizeof answer, MSG_WAITALL), static_cast<ssize_t>(sizeof answer));
  EXPECT_EQ(answer[5], kFlagResponse | kFlagError);
  ::close(stranger);
  EXPECT_EQ(*call(0, 0, 1, kEcho, "fine"), "1:fine");
  const MessengerCounters c = counters(1);
  EXPECT_EQ(c.framing_errors, 1u);
  EXPECT_EQ(c.refused_peers, 1u);
}

TEST_F(MessengerTest, AQueueToAPeerThatDoesNotReadIsBoundedAndSaysWhenToGoOn) {
  SilentListener hung;
  listen_all();
  members_[2].address.port = hung.port;
  MessengerConfig c = config(0);
  c.max_queued_bytes = 256 << 10;
  c.peer_dead_after = milliseconds(60'000);  // keep the connection: this is about its queue
  c.heartbeat_interval = milliseconds(10'000);
  c.call_timeout = milliseconds(60'000);
  start_node(0, std::move(c));
  const EbbId id = ids_[0];
  // Connected first (the hello goes out; nobody answers it).
  run(0, [id] { EXPECT_TRUE(Ref<Messenger>(id)->send(2, kService, kNote, 1, text("first")).ok()); });
  EXPECT_TRUE(eventually([this] { return counters(0).connects == 1; }));
  // Whatever Linux's buffers take, the Messenger holds no more than its
  // limit, refuses past it, and says when there is room again.
  auto refused = on_core(0, [id]() -> Result<std::pair<int, bool>> {
    const std::string chunk(16 << 10, 'x');
    for (int i = 0; i < 10'000; ++i) {
      Status s = Ref<Messenger>(id)->send(2, kService, kNote, 1, text(chunk));
      if (!s) {
        if (s.error().code() != Errc::kExhausted) return s.error();
        return std::pair<int, bool>(i, Ref<Messenger>(id)->until_writable(2).ready());
      }
    }
    return Error(Errc::kInvalidArgument, "never refused");
  });
  ASSERT_TRUE(refused.ok());
  EXPECT_GT(refused->first, 16);  // more than the limit: Linux took some
  EXPECT_FALSE(refused->second);
  EXPECT_GE(counters(0).queue_full, 1u);
}

TEST(MessengerConfig, BadConfigsAreNamed) {
  MessengerConfig c;
  EXPECT_FALSE(validate(c).ok());
  c.self = 1;
  c.members = {{0, {0x7f000001, 5000}}, {1, {0x7f000001, 5001}}};
  EXPECT_TRUE(validate(c).ok());
  c.members.push_back({1, {0x7f000001, 5002}});
  EXPECT_EQ(validate(c).error().code(), Errc::kAlreadyExists);
  c.members.pop_back();
  c.members.push_back({2, {0, 5002}});
  EXPECT_FALSE(validate(c).ok());
  c.members.pop_back();
  c.self = 3;
  EXPECT_STREQ(validate(c).error().message(), "messenger: this node is not among the members");
  c.self = 1;
  c.peer_dead_after = c.heartbeat_interval;
  EXPECT_FALSE(validate(c).ok());
}

// ---- distributed Ebbs ----

// A distributed Ebb whose reps count, per core, the messages they got.
constexpr uint16_t kTally = 1100;
class Tally : public DistributedEbb<Tally> {
 public:
  explicit Tally(DistributedRoot<Tally>& root) : DistributedEbb(root) {}
  Future<IOBuf> tally_on(NodeId node) { return call(node, kTally, 1, text("+1")); }
  void on_message(Frame&&, Responder responder) {
    ++count_;
    responder.respond(text(std::to_string(self_node()) + "/" + std::to_string(this_core()) + "/" +
                           std::to_string(count_)));
  }

 private:
  uint64_t count_ = 0;  // this core's: no atomics
};

class DistributedTest : public MessengerTest {
 protected:
  void make_id_maps() {
    for (int n = 0; n < kNodes; ++n) {
      const EbbId m = ids_[n];
      auto made = on_core(0, [m] { return IdMap::CreateOnNode(Ref<Messenger>(m)); });
      char why[kErrorTextSize];
      ASSERT_TRUE(made.ok()) << "node " << n << ": " << made.error().describe(why, sizeof why);
      maps_[n] = made->id();
    }
  }
  Result<EbbId> ask(CoreId core, int n, uint16_t type, const std::string& name, EbbId id = 0) {
    const EbbId map = maps_[n];
    return on_core(core, [=] {
      Ref<IdMap> ids(map);
      if (type == kTypeIdBind) return ids->bind(name, id);
      if (type == kTypeIdLookup) return ids->lookup(name);
      return ids->resolve(name);
    });
  }
  EbbId maps_[kNodes] = {};
};

TEST_F(DistributedTest, EveryNodeAndCoreResolvesANameToOneIdFromItsHomesBlock) {
  start_all();
  make_id_maps();
  const std::vector<std::string> names = {"memcached.ring", "a", "b", "c", "d", "e", "f", "g"};
  std::set<EbbId> distinct;
  std::set<NodeId> homes;
  for (const std::string& name : names) {
    Result<EbbId> first = ask(1, 2, kTypeIdResolve, name);
    ASSERT_TRUE(first.ok()) << name;
    for (int n = 0; n < kNodes; ++n)
      for (CoreId core = 0; core < 2; ++core) EXPECT_EQ(*ask(core, n, kTypeIdResolve, name), *first) << name;
    const NodeId home = on_core(0, [m = maps_[0], name] { return Ref<IdMap>(m)->home_of(name); }).value();
    homes.insert(home);
    EXPECT_GE(*first, first_cluster_id_of(home));
    EXPECT_LT(*first, first_cluster_id_of(home) + kClusterIdsPerNode);
    distinct.insert(*first);
  }
  EXPECT_EQ(distinct.size(), names.size());
  EXPECT_GE(homes.size(), 2u);  // names spread over the members
}

TEST_F(DistributedTest, BindLookupAndBadNamesAnswerClearly) {
  start_all();
  make_id_maps();
  const EbbId mine = on_core(1, [m = maps_[1]] { return Ref<IdMap>(m)->allocate(); }).value();
  EXPECT_EQ(*ask(0, 1, kTypeIdBind, "kv", mine), mine);
  EXPECT_EQ(*ask(1, 2, kTypeIdLookup, "kv"), mine);
  EXPECT_EQ(*ask(0, 0, kTypeIdBind, "kv", mine), mine);  // the same binding again is fine
  Result<EbbId> clash = ask(0, 0, kTypeIdBind, "kv", mine + 1);
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.error().code(), Errc::kAlreadyExists);
  EXPECT_EQ(clash.error().value(), mine);
  Result<EbbId> none = ask(0, 2, kTypeIdLookup, "nobody");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), Errc::kNoSuchEbb);
  EXPECT_EQ(ask(0, 0, kTypeIdResolve, "").error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(ask(0, 0, kTypeIdResolve, std::string(201, 'n')).error().code(), Errc::kInvalidArgument);
  EXPECT_EQ(ask(0, 0, kTypeIdBind, "local", 600).error().code(), Errc::kInvalidArgument);
}

TEST_F(DistributedTest, AllocatedIdsAreUniqueAcrossCoresAndNodes) {
  start_all();
  make_id_maps();
  std::set<EbbId> all;
  for (int n = 0; n < kNodes; ++n)
    for (CoreId core = 0; core < 2; ++core) {
      auto got = on_core(core, [m = maps_[n]] {
        std::vector<EbbId> v;
        for (int i = 0; i < 500; ++i) v.push_back(Ref<IdMap>(m)->allocate().value());
        return v;
      });
      ASSERT_TRUE(got.ok());
      for (EbbId id : *got) {
        EXPECT_GE(id, first_cluster_id_of(static_cast<NodeId>(n)));
        EXPECT_LT(id, first_cluster_id_of(static_cast<NodeId>(n)) + kClusterIdsPerNode);
        all.insert(id);
      }
    }
  EXPECT_EQ(all.size(), 3u * 2u * 500u);
}

TEST_F(DistributedTest, ANameWhoseHomeIsDownIsAnErrorAndOthersStillResolve) {
  start_all();
  make_id_maps();
  std::string at2, elsewhere;
  for (int i = 0; at2.empty() || elsewhere.empty(); ++i) {
    const std::string name = "n" + std::to_string(i);
    const NodeId home = on_core(0, [m = maps_[0], name] { return Ref<IdMap>(m)->home_of(name); }).value();
    (home == 2 ? at2 : elsewhere) = name;
  }
  stop_node(2);
  Result<EbbId> r = ask(0, 0, kTypeIdResolve, at2);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kUnreachable);
  EXPECT_TRUE(ask(0, 0, kTypeIdResolve, elsewhere).ok());
}

TEST_F(DistributedTest, ARemoteCallReachesThePerCoreRepsOfTheOtherNode) {
  start_all();
  constexpr EbbId kTallyId = kFirstAppClusterId;
  EbbId local[kNodes];
  for (int n = 0; n < kNodes; ++n) {
    auto made = on_core(0, [m = ids_[n]]() -> Result<EbbId> {
      (void)Ref<Messenger>(m)->root().add_type({.id = kTally, .name = "tally"});
      Result<Ref<Tally>> t = Tally::CreateOnNode(Ref<Messenger>(m), kTallyId);
      if (!t) return t.error();
      return t->id();
    });
    ASSERT_TRUE(made.ok());
    local[n] = *made;
  }
  // A second part of the same Ebb on one node is refused.
  auto twice = on_core(0, [m = ids_[1]] { return Tally::CreateOnNode(Ref<Messenger>(m), kTallyId); });
  EXPECT_EQ(twice.error().code(), Errc::kAlreadyExists);
  // Node 0's rep on each core calls node 1's: answered by one of node 1's
  // per-core reps, each counting for itself.
  std::set<std::string> answered_by;
  uint64_t total = 0;
  for (int i = 0; i < 20; ++i)
    for (CoreId core = 0; core < 2; ++core) {
      auto r = on_core(core, [t = local[0]] { return Ref<Tally>(t)->tally_on(1); });
      ASSERT_TRUE(r.ok());
      const std::string s = r->to_string();  // node/core/count
      ASSERT_EQ(s.substr(0, 2), "1/");
      answered_by.insert(s.substr(0, s.rfind('/')));
      ++total;
    }
  EXPECT_EQ(total, 40u);
  EXPECT_GE(answered_by.size(), 1u);
  auto self_call = on_core(1, [t = local[2]] { return Ref<Tally>(t)->tally_on(2); });
  ASSERT_TRUE(self_call.ok());
  EXPECT_EQ(self_call->to_string(), "2/1/1");  // to itself: handled on the calling core
  Result<std::string> r = call(0, 0, 1, kTally, "", 1, kTallyId + 2);  // no such Ebb
  EXPECT_EQ(r.error().code(), Errc::kNoSuchEbb);
}

}  // namespace
}  // namespace ebb::messenger
