// The hosted core's sleep and wake: one epoll set per core holds an eventfd
// (other threads write it to wake the core) and the fds the core watches.

#include "runtime/hosted/fd_watch.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <atomic>
#include <unordered_map>

#include "runtime/core.h"
#include "runtime/event_loop.h"
#include "runtime/panic.h"
#include "runtime/platform.h"

namespace ebb::hosted {
namespace {

struct Watch {
  int fd;
  FdCallback callback;
  uint32_t ready = 0;    // flags collected while the callback is queued
  bool queued = false;
  bool dead = false;     // unwatched; erased once no callback can be running
};

struct Poller {
  int epoll_fd = -1;
  int wake_fd = -1;
  std::unordered_map<uint64_t, Watch> watches;  // by watch id
  std::unordered_map<int, uint64_t> ids;        // fd -> watch id
  uint64_t next_id = 1;
};

// Tags the eventfd in epoll data (watch ids start at 1).
constexpr uint64_t kWakeTag = 0;
constexpr int kMaxEvents = 64;

Poller* g_pollers[kMaxCores];
// epoll_wait and epoll_pwait2 calls per core (for system calls per request).
std::atomic<uint64_t> g_poll_calls[kMaxCores];

void count_poll(uint32_t core) {
  g_poll_calls[core].store(g_poll_calls[core].load(std::memory_order_relaxed) + 1,
                           std::memory_order_relaxed);
}

Poller& poller_of(uint32_t core) { return *g_pollers[core]; }

void drain_wake_fd(Poller& p) {
  uint64_t count;
  while (::read(p.wake_fd, &count, sizeof count) == sizeof count) {
  }
}

void dispatch(uint32_t core, Poller& p, const epoll_event* events, int n) {
  for (int i = 0; i < n; ++i) {
    const uint64_t id = events[i].data.u64;
    if (id == kWakeTag) {
      drain_wake_fd(p);
      continue;
    }
    auto it = p.watches.find(id);
    if (it == p.watches.end() || it->second.dead) continue;
    Watch& w = it->second;
    w.ready |= events[i].events;
    if (w.queued) continue;
    w.queued = true;
    Poller* poller = &p;
    ebb::detail::g_cores[core]->local.push([poller, id] {
      auto found = poller->watches.find(id);
      if (found == poller->watches.end() || found->second.dead) return;  // unwatched meanwhile
      Watch& watch = found->second;
      const uint32_t ready = watch.ready;
      watch.ready = 0;
      watch.queued = false;
      watch.callback(ready);  // may unwatch itself: `watch` is not used after
    });
  }
}

Poller* this_poller(const char* what, Status* error) {
  const CoreId core = this_core();
  if (core == kNoCore) {
    *error = Error(Errc::kNotOnCore, what);
    return nullptr;
  }
  return g_pollers[core];
}

}  // namespace

void detail::create_poller(uint32_t core) {
  auto* p = new Poller();
  p->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  EBB_CHECK(p->epoll_fd >= 0, "core %u: epoll_create1 failed (errno %d)", core, errno);
  p->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  EBB_CHECK(p->wake_fd >= 0, "core %u: eventfd failed (errno %d)", core, errno);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeTag;
  EBB_CHECK(epoll_ctl(p->epoll_fd, EPOLL_CTL_ADD, p->wake_fd, &ev) == 0,
            "core %u: epoll_ctl on the wake eventfd failed (errno %d)", core, errno);
  g_pollers[core] = p;
}

void detail::destroy_poller(uint32_t core) {
  Poller* p = g_pollers[core];
  if (p == nullptr) return;
  ::close(p->wake_fd);
  ::close(p->epoll_fd);
  delete p;
  g_pollers[core] = nullptr;
}

Status watch_fd(int fd, uint32_t events, FdCallback callback) {
  Status error;
  Poller* p = this_poller("watch_fd: not on a core", &error);
  if (p == nullptr) return error;
  if (p->ids.count(fd) != 0) return Error(Errc::kAlreadyExists, "watch_fd: fd already watched", fd);
  const uint64_t id = p->next_id++;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = id;
  if (epoll_ctl(p->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0)
    return Error::from_errno("watch_fd: epoll_ctl(ADD) failed", errno);
  p->watches.emplace(id, Watch{fd, std::move(callback)});
  p->ids.emplace(fd, id);
  ++ebb::detail::tls_core->io_watches;  // the loop now polls this core's epoll
  return {};
}

Status modify_fd(int fd, uint32_t events) {
  Status error;
  Poller* p = this_poller("modify_fd: not on a core", &error);
  if (p == nullptr) return error;
  auto it = p->ids.find(fd);
  if (it == p->ids.end()) return Error(Errc::kInvalidArgument, "modify_fd: fd not watched", fd);
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = it->second;
  if (epoll_ctl(p->epoll_fd, EPOLL_CTL_MOD, fd, &ev) != 0)
    return Error::from_errno("modify_fd: epoll_ctl(MOD) failed", errno);
  return {};
}

uint64_t poll_calls(CoreId core) { return g_poll_calls[core].load(std::memory_order_relaxed); }

Status unwatch_fd(int fd) {
  Status error;
  Poller* p = this_poller("unwatch_fd: not on a core", &error);
  if (p == nullptr) return error;
  auto it = p->ids.find(fd);
  if (it == p->ids.end()) return Error(Errc::kInvalidArgument, "unwatch_fd: fd not watched", fd);
  const uint64_t id = it->second;
  p->ids.erase(it);
  // The fd may be closed already (then the kernel dropped it from the set).
  epoll_ctl(p->epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
  // The running callback may be the one unwatching itself: it is erased (and
  // destroyed) by a later event, once it has returned.
  p->watches.at(id).dead = true;
  --ebb::detail::tls_core->io_watches;
  spawn_local([p, id] { p->watches.erase(id); });
  return {};
}

}  // namespace ebb::hosted

namespace ebb::platform {

void wake_core(CoreId core) {
  const uint64_t one = 1;
  // EAGAIN means the counter is already non-zero: the core will wake anyway.
  [[maybe_unused]] ssize_t n = ::write(hosted::g_pollers[core]->wake_fd, &one, sizeof one);
}

void wait_for_work(CoreId core, uint64_t deadline_ns) {
  hosted::Poller& p = hosted::poller_of(core);
  epoll_event events[hosted::kMaxEvents];
  timespec timeout{};
  const timespec* timeout_ptr = nullptr;
  if (deadline_ns != UINT64_MAX) {
    const uint64_t now = now_ns();
    const uint64_t wait = deadline_ns > now ? deadline_ns - now : 0;
    timeout.tv_sec = static_cast<time_t>(wait / 1'000'000'000u);
    timeout.tv_nsec = static_cast<long>(wait % 1'000'000'000u);
    timeout_ptr = &timeout;
  }
  const int n = epoll_pwait2(p.epoll_fd, events, hosted::kMaxEvents, timeout_ptr, nullptr);
  hosted::count_poll(core);
  if (n > 0) hosted::dispatch(core, p, events, n);
}

bool poll_io(CoreId core) {
  hosted::Poller& p = hosted::poller_of(core);
  if (p.watches.empty()) return false;
  epoll_event events[hosted::kMaxEvents];
  const int n = epoll_wait(p.epoll_fd, events, hosted::kMaxEvents, 0);
  hosted::count_poll(core);
  if (n <= 0) return false;
  hosted::dispatch(core, p, events, n);
  return true;
}

}  // namespace ebb::platform
