#include "ebbs/net/stack/reassembly.h"

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

namespace ebb::net::stack {

namespace {
constexpr uint32_t kMaxEnd = 65535;  // the most an IPv4 total length can say
}  // namespace

struct Reassembler::Datagram {
  struct Fragment {
    uint32_t offset;
    uint32_t length;
    IOBuf data;
    uint32_t end() const { return offset + length; }
  };

  Datagram* next = nullptr;
  FragmentKey key;
  uint64_t deadline = 0;
  bool end_known = false;  // the last fragment (more_fragments clear) came
  uint32_t end = 0;        // its end, once known
  uint32_t held = 0;       // payload bytes in `fragments`
  // Sorted by offset, never overlapping, every one non-empty: so the
  // datagram is whole exactly when its end is known and held == end.
  std::vector<Fragment> fragments;

  uint32_t held_end() const { return fragments.empty() ? 0 : fragments.back().end(); }
};

Reassembler::Reassembler(ReassemblyLimits limits) : limits_(limits) {}

Reassembler::~Reassembler() {
  while (datagrams_ != nullptr)
    discard(&datagrams_);
}

Reassembler::Datagram** Reassembler::find(const FragmentKey& key) {
  Datagram** slot = &datagrams_;
  while (*slot != nullptr && !((*slot)->key == key))
    slot = &(*slot)->next;
  return slot;
}

void Reassembler::discard(Datagram** slot) {
  Datagram* d = *slot;
  *slot = d->next;
  bytes_ -= d->held;
  --count_;
  delete d;
}

std::optional<IOBuf> Reassembler::add(const FragmentKey& key, uint32_t offset, bool more_fragments,
                                      IOBuf payload, uint64_t now_ns) {
  ++counters_.fragments;
  expire(now_ns);

  const std::size_t length = payload.length();
  if (length > kMaxEnd || offset > kMaxEnd - length || offset % 8 != 0 ||
      (more_fragments && (length == 0 || length % 8 != 0)) ||
      (!more_fragments && length == 0 && offset != 0)) {
    ++counters_.malformed;
    return std::nullopt;
  }
  if (offset == 0 && !more_fragments) return payload;  // never fragmented

  const uint32_t end = offset + static_cast<uint32_t>(length);
  Datagram** slot = find(key);
  Datagram* d = *slot;
  std::vector<Datagram::Fragment>::iterator at;
  if (d == nullptr) {
    if (count_ >= limits_.max_datagrams || limits_.max_fragments == 0 ||
        length > limits_.max_bytes - bytes_) {
      ++counters_.over_limit;
      return std::nullopt;
    }
    d = new Datagram;
    d->key = key;
    const uint64_t timeout = limits_.timeout_ns;
    d->deadline = now_ns > std::numeric_limits<uint64_t>::max() - timeout
                      ? std::numeric_limits<uint64_t>::max()
                      : now_ns + timeout;
    if (d->deadline == 0) d->deadline = 1;  // 0 means "none" to next_deadline()
    d->next = datagrams_;
    datagrams_ = d;
    slot = &datagrams_;
    ++count_;
    at = d->fragments.end();
  } else {
    const bool contradicts = more_fragments
                                 ? d->end_known && end > d->end
                                 : (d->end_known && end != d->end) || end < d->held_end();
    if (contradicts) {
      ++counters_.malformed;
      discard(slot);
      return std::nullopt;
    }
    at = std::lower_bound(d->fragments.begin(), d->fragments.end(), offset,
                          [](const Datagram::Fragment& f, uint32_t o) { return f.offset < o; });
    if (at != d->fragments.end() && at->offset == offset && at->length == length) {
      ++counters_.duplicates;
      return std::nullopt;
    }
    const bool overlaps = (at != d->fragments.end() && at->offset < end) ||
                          (at != d->fragments.begin() && std::prev(at)->end() > offset);
    if (overlaps) {
      ++counters_.overlaps;
      discard(slot);
      return std::nullopt;
    }
    if (d->fragments.size() >= limits_.max_fragments || length > limits_.max_bytes - bytes_) {
      ++counters_.over_limit;
      discard(slot);
      return std::nullopt;
    }
  }

  d->fragments.insert(
      at, Datagram::Fragment{offset, static_cast<uint32_t>(length), std::move(payload)});
  d->held += static_cast<uint32_t>(length);
  bytes_ += length;
  if (!more_fragments) {
    d->end_known = true;
    d->end = end;
  }
  if (!d->end_known || d->held != d->end) return std::nullopt;

  IOBuf whole;
  for (Datagram::Fragment& f : d->fragments)
    whole.append(std::move(f.data));
  discard(slot);
  ++counters_.reassembled;
  return whole;
}

void Reassembler::expire(uint64_t now_ns) {
  Datagram** slot = &datagrams_;
  while (*slot != nullptr) {
    if (now_ns >= (*slot)->deadline) {
      ++counters_.timeouts;
      discard(slot);
    } else {
      slot = &(*slot)->next;
    }
  }
}

uint64_t Reassembler::next_deadline() const {
  uint64_t earliest = 0;
  for (const Datagram* d = datagrams_; d != nullptr; d = d->next)
    if (earliest == 0 || d->deadline < earliest) earliest = d->deadline;
  return earliest;
}

std::size_t Reassembler::datagrams_in_progress() const {
  return count_;
}
std::size_t Reassembler::bytes_held() const {
  return bytes_;
}

}  // namespace ebb::net::stack
