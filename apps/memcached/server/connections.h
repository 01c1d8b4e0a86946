#pragma once
// The open connections, for `stats conns`: each core keeps a list of its
// own (linked and unlinked only there), under a lock of its own because
// `stats` reads every core's list from whichever core asked.

#include <atomic>
#include <cstdint>
#include <memory>

#include "apps/memcached/store/item.h"
#include "ebbs/net/address.h"
#include "runtime/spin_lock.h"

namespace ebb::memcached {

struct ConnectionInfo {
  uint64_t id = 0;
  net::Endpoint peer;
  net::Endpoint local;
  std::atomic<ServerTime> last_command{0};
  ConnectionInfo* prev = nullptr;
  ConnectionInfo* next = nullptr;
};

class ConnectionRegistry {
 public:
  explicit ConnectionRegistry(uint32_t cores) : cores_(cores), lists_(new List[cores]) {}

  // On the connection's core.
  void add(uint32_t core, ConnectionInfo* info) {
    info->id = next_id_.fetch_add(1, std::memory_order_relaxed);
    List& list = lists_[core];
    SpinLockGuard guard(list.lock);
    info->prev = nullptr;
    info->next = list.head;
    if (list.head != nullptr) list.head->prev = info;
    list.head = info;
  }
  void remove(uint32_t core, ConnectionInfo* info) {
    List& list = lists_[core];
    SpinLockGuard guard(list.lock);
    if (info->prev != nullptr) info->prev->next = info->next;
    else list.head = info->next;
    if (info->next != nullptr) info->next->prev = info->prev;
  }
  // Calls f(const ConnectionInfo&) for every open connection, core by core.
  template <class F>
  void for_each(F&& f) const {
    for (uint32_t core = 0; core < cores_; ++core) {
      List& list = lists_[core];
      SpinLockGuard guard(list.lock);
      for (const ConnectionInfo* c = list.head; c != nullptr; c = c->next) f(*c);
    }
  }

 private:
  struct alignas(64) List {
    SpinLock lock;
    ConnectionInfo* head = nullptr;
  };
  const uint32_t cores_;
  std::unique_ptr<List[]> lists_;
  std::atomic<uint64_t> next_id_{1};
};

}  // namespace ebb::memcached
