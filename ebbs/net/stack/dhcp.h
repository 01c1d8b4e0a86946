#pragma once
// DhcpClient: obtains an IPv4 address for one Engine with DHCP (RFC 2131,
// options per RFC 2132), applies it with engine.configure() and keeps it:
// renews at T1 (unicast to the server), rebinds at T2 (broadcast), drops
// the address when the lease expires and starts over.
//
// It is plain code on the engine, like the engine itself: it has no timers
// of its own. Whoever drives the engine drives the client next to it, on
// the same core, and merges the two deadlines:
//
//   DhcpClient dhcp(engine, {.hostname = "ebb"});
//   dhcp.start().on_result([](Result<DhcpLease>&& r) { ... });   // once bound, or failed
//   ...each turn of the loop that serves the engine:
//   engine.receive(frame);                                       // replies reach the client here
//   if (dhcp.next_deadline() != 0 && dhcp.next_deadline() <= engine.now()) dhcp.run_timers();
//   if (engine.next_deadline() ... ) engine.run_timers();
//   engine.flush(transmit);                                      // sends what the client queued
//   ...sleep until the earlier of dhcp.next_deadline() and engine.next_deadline() (0: none).
//   dhcp.stop();                                                  // DHCPRELEASE, address dropped
//
// The client binds UDP port 68 on the engine and broadcasts to
// 255.255.255.255:67 with the BOOTP broadcast flag set, so that replies
// come broadcast while the engine has no address (an unconfigured engine
// takes any IPv4 destination too). On a multi-core Stack the client lives
// on core 0's engine, where steer_frame() sends UDP port 68 (a reply's
// flow hash depends on a server address not known beforehand).
// configure() is per engine: on_change() is where the owner copies the
// address to the other cores' engines.
//
// Not done: DHCPDECLINE after an ARP probe (the engine has no conflict
// probe), INIT-REBOOT of a remembered address, DHCPINFORM, option overload
// (option 52: sname/file are not searched) and relay agents. Replies that
// are not for us (xid, chaddr) or not expected now are ignored; malformed
// ones (any length that lies, a missing magic cookie or message type) are
// dropped; each kind is counted (counters()). Start it on an unconfigured
// engine (ip 0). Destroy it before its engine, and not from inside its own
// callbacks; destroying it drops a leased address without a RELEASE.

#include <cstdint>
#include <optional>
#include <string>

#include "runtime/function.h"
#include "runtime/future.h"

namespace ebb::net {
class DatagramSocket;
}

namespace ebb::net::stack {

class Engine;

// What the server granted. Durations count from bound_at_ns (engine time:
// when the REQUEST that got this lease was first sent, RFC 2131 4.4.1).
struct DhcpLease {
  static constexpr uint64_t kInfinite = UINT64_MAX;

  uint32_t ip = 0;
  uint32_t netmask = 0;
  uint8_t prefix = 0;      // from the subnet mask (option 1), else the address's class
  uint32_t gateway = 0;    // the first router (option 3); 0: none
  uint32_t server = 0;     // the server identifier (option 54)
  uint32_t dns = 0;        // the first DNS server (option 6); 0: none
  uint64_t lease_ns = 0;   // option 51 (kInfinite: never expires)
  uint64_t renew_ns = 0;   // T1, option 58 or half the lease
  uint64_t rebind_ns = 0;  // T2, option 59 or 7/8 of the lease
  uint64_t bound_at_ns = 0;
};

struct DhcpOptions {
  std::string hostname;  // option 12 when not empty (at most 255 bytes sent)
  // Retransmission (RFC 2131 4.1): the first after initial_timeout_ns,
  // doubling up to max_timeout_ns, each randomized by ±jitter_ns.
  uint64_t initial_timeout_ns = 4'000'000'000;
  uint64_t max_timeout_ns = 64'000'000'000;
  uint64_t jitter_ns = 1'000'000'000;
  // DISCOVERs without an offer, and REQUESTs without an answer, before
  // start() fails (DISCOVER) or discovery starts over (REQUEST); also the
  // most restarts (NAKs, unanswered REQUESTs) start() sits through.
  // Once start() has completed the client never gives up.
  uint32_t max_attempts = 5;
  // In RENEWING and REBINDING a REQUEST is repeated after half the time
  // left to T2 (to expiry), but not sooner than this (RFC 2131 4.4.5).
  uint64_t min_renew_retry_ns = 60'000'000'000;
  uint64_t seed = 0;  // for xids and jitter; 0: from the clock and the MAC
};

struct DhcpCounters {
  uint64_t discovers = 0, requests = 0, releases = 0;  // sent
  uint64_t received = 0;  // datagrams on port 68; each also counts in exactly one below
  uint64_t offers = 0, acks = 0, naks = 0;  // accepted
  uint64_t malformed = 0;                   // dropped: lying lengths, no cookie, bad option values
  uint64_t wrong_xid = 0;                   // ignored: another transaction's
  uint64_t wrong_chaddr = 0;                // ignored: another client's
  uint64_t unexpected = 0;                  // ignored: not a reply, or not one this state waits for
  uint64_t renewals = 0;                    // leases extended (ACK in RENEWING or REBINDING)
  uint64_t expirations = 0;                 // leases lost at expiry
  uint64_t restarts = 0;                    // discovery started over (NAK, silence, expiry)
};

class DhcpClient {
 public:
  enum class State : uint8_t {
    kIdle,
    kInit,
    kSelecting,
    kRequesting,
    kBound,
    kRenewing,
    kRebinding,
    kStopped,
    kFailed
  };

  explicit DhcpClient(Engine& engine, DhcpOptions options = {});
  ~DhcpClient();
  DhcpClient(const DhcpClient&) = delete;
  DhcpClient& operator=(const DhcpClient&) = delete;

  // Binds UDP port 68 and starts discovery. The Future completes once the
  // first lease is bound and applied, or with Errc::kTimedOut after
  // max_attempts, or kCancelled by stop(). kAlreadyExists while running.
  Future<DhcpLease> start();
  // Releases the lease (DHCPRELEASE, address dropped) if one is held, and
  // stops; start() may follow.
  void stop();

  // The engine time of the next retransmission or lease event; 0: none.
  uint64_t next_deadline() const { return deadline_; }
  // Does what is due at engine.now(); a no-op when nothing is.
  void run_timers();

  // Called after each change of address: the lease applied (bound,
  // renewed), or null when the address was dropped (expiry, NAK, stop()).
  void on_change(Function<void(const DhcpLease*)> fn) { on_change_ = std::move(fn); }

  State state() const { return state_; }
  // The lease in use; null when none.
  const DhcpLease* lease() const { return has_lease_ ? &lease_ : nullptr; }
  uint32_t xid() const { return xid_; }
  const DhcpCounters& counters() const { return counters_; }

 private:
  struct Message;

  void input(const uint8_t* data, std::size_t length);
  void handle(const Message& m);
  void bind_lease(const Message& m);
  void begin_discovery();
  void restart(uint64_t delay_ns);
  void drop_address();
  void fail(const char* why);
  void send_discover();
  void send_request(uint32_t destination, bool broadcast_flag);
  void send_release();
  void send(uint8_t type, uint32_t destination, uint32_t ciaddr, bool broadcast_flag,
            uint32_t requested_ip, uint32_t server_id);
  uint64_t retransmit_delay();
  uint64_t renew_delay(uint64_t until) const;
  uint64_t random();
  void new_round();

  Engine& engine_;
  const DhcpOptions options_;
  DatagramSocket* socket_ = nullptr;
  std::optional<Promise<DhcpLease>> promise_;
  Function<void(const DhcpLease*)> on_change_;
  State state_ = State::kIdle;
  uint64_t deadline_ = 0;
  uint64_t rng_;
  uint32_t xid_ = 0;
  uint32_t attempts_ = 0;        // transmissions in this round
  uint32_t restarts_ = 0;        // while start() waits
  uint64_t round_started_ = 0;   // the first transmission of this round
  uint32_t offered_ip_ = 0;      // REQUESTING: the address asked for
  uint32_t offered_server_ = 0;  // REQUESTING: the server chosen
  bool has_lease_ = false;
  DhcpLease lease_;
  uint64_t t1_at_ = 0, t2_at_ = 0, expires_at_ = 0;  // 0: never
  DhcpCounters counters_;
};

}  // namespace ebb::net::stack
