#include "ebbs/net/stack/arp.h"

namespace ebb::net::stack {

std::vector<IOBuf> ArpTable::learn(uint32_t ip, const MacAddress& mac, uint64_t now, bool create) {
  auto it = entries_.find(ip);
  if (it != entries_.end()) {
    it->second = {mac, now + config_.lifetime_ns};
  } else if (create || pending_.count(ip) != 0) {
    if (entries_.size() >= config_.max_entries) {
      // Make room: expired entries first, else any one (a table full of
      // live entries is an attack or a misconfiguration; either way bounded).
      for (auto e = entries_.begin(); e != entries_.end();) {
        if (e->second.expires <= now) e = entries_.erase(e);
        else ++e;
      }
      if (entries_.size() >= config_.max_entries) entries_.erase(entries_.begin());
    }
    entries_.emplace(ip, Entry{mac, now + config_.lifetime_ns});
  }
  std::vector<IOBuf> ready;
  auto p = pending_.find(ip);
  if (p != pending_.end()) {
    ready = std::move(p->second.packets);
    waiting_ -= ready.size();
    pending_.erase(p);
  }
  return ready;
}

ArpTable::Wait ArpTable::wait(uint32_t ip, IOBuf packet, uint64_t now) {
  auto it = pending_.find(ip);
  if (it == pending_.end()) {
    if (waiting_ >= config_.max_waiting || pending_.size() >= config_.max_entries) return Wait::kFull;
    Pending& p = pending_[ip];
    p.packets.push_back(std::move(packet));
    p.requests = 1;
    p.next_request = now + config_.retry_ns;
    ++waiting_;
    return Wait::kSendRequest;
  }
  Pending& p = it->second;
  if (waiting_ >= config_.max_waiting || p.packets.size() >= config_.max_waiting_per_address)
    return Wait::kFull;
  p.packets.push_back(std::move(packet));
  ++waiting_;
  return Wait::kQueued;
}

uint64_t ArpTable::next_deadline() const {
  uint64_t next = 0;
  for (const auto& [ip, p] : pending_)
    if (next == 0 || p.next_request < next) next = p.next_request;
  return next;
}

}  // namespace ebb::net::stack
