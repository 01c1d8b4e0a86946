#pragma once
// ArpTable: IPv4 → Ethernet addresses (RFC 826), with the packets that wait
// for an answer. Bounded everywhere: entries, packets waiting per address
// and in all; an address that never answers costs `requests` requests and
// then its packets are dropped. Entries expire after `lifetime_ns`, so a
// host that moved is asked again.
//
// The table decides; the engine sends (requests, and the waiting packets
// once an answer comes).

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "ebbs/net/iobuf/iobuf.h"
#include "ebbs/net/mac_address.h"
#include "ebbs/net/stack/config.h"

namespace ebb::net::stack {

class ArpTable {
 public:
  explicit ArpTable(const ArpConfig& config) : config_(config) {}

  // The address of `ip` if known and not expired (and when it expires).
  const MacAddress* find(uint32_t ip, uint64_t now, uint64_t* expires = nullptr) const {
    auto it = entries_.find(ip);
    if (it == entries_.end() || it->second.expires <= now) return nullptr;
    if (expires != nullptr) *expires = it->second.expires;
    return &it->second.mac;
  }

  // Records ip → mac (create: also when not known before; RFC 826 only
  // updates unless the packet was for us). Returns the packets that waited
  // for this address, to be sent now.
  std::vector<IOBuf> learn(uint32_t ip, const MacAddress& mac, uint64_t now, bool create);

  enum class Wait {
    kSendRequest,  // queued; the first for this address: ask now
    kQueued,       // queued behind a request already sent
    kFull,         // dropped: too many packets wait
  };
  Wait wait(uint32_t ip, IOBuf packet, uint64_t now);

  // Timers: request(ip) for each address due another request; drops the
  // packets of addresses that had every request. Returns how many dropped.
  template <class Request>
  uint32_t tick(uint64_t now, Request&& request) {
    uint32_t dropped = 0;
    for (auto it = pending_.begin(); it != pending_.end();) {
      Pending& p = it->second;
      if (p.next_request > now) {
        ++it;
      } else if (p.requests >= config_.requests) {
        dropped += static_cast<uint32_t>(p.packets.size());
        waiting_ -= p.packets.size();
        it = pending_.erase(it);
      } else {
        ++p.requests;
        p.next_request = now + config_.retry_ns;
        request(it->first);
        ++it;
      }
    }
    return dropped;
  }
  // The next time tick() has work; 0 when none.
  uint64_t next_deadline() const;

  std::size_t entries() const { return entries_.size(); }
  std::size_t waiting() const { return waiting_; }

 private:
  struct Entry {
    MacAddress mac;
    uint64_t expires;
  };
  struct Pending {
    std::vector<IOBuf> packets;
    uint64_t next_request = 0;
    uint32_t requests = 0;
  };
  ArpConfig config_;
  std::unordered_map<uint32_t, Entry> entries_;
  std::unordered_map<uint32_t, Pending> pending_;
  std::size_t waiting_ = 0;
};

}  // namespace ebb::net::stack
