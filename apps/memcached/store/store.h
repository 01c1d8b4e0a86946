#pragma once
// Store: the memcached store as an Ebb. One rep per node (a SharedEbb): every
// core reads the same table without locks and writes it under per-shard
// locks. docs/ARCHITECTURE.md tells why this beat per-core partitions.

#include "apps/memcached/store/clock.h"
#include "apps/memcached/store/table.h"
#include "runtime/shared_ebb.h"

namespace ebb::memcached {

class Store : public SharedEbb<Store> {
 public:
  explicit Store(const TableOptions& options) : table_(options) {}

  ItemTable& table() { return table_; }
  ServerClock& clock() { return clock_; }

 private:
  ItemTable table_;
  ServerClock clock_;
};

}  // namespace ebb::memcached
