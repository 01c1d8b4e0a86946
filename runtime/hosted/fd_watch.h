#pragma once
// I/O readiness on hosted cores: each core has its own epoll set, waited on by
// its event loop (no extra threads). A watched fd's callback runs as an event
// on the core that watches it, with the ready flags (EPOLLIN, EPOLLOUT, ...).
// Watches are level-triggered unless EPOLLET is asked for; a callback is
// queued at most once at a time.

#include <cstdint>

#include "runtime/core.h"
#include "runtime/function.h"
#include "runtime/result.h"

namespace ebb::hosted {

using FdCallback = Function<void(uint32_t ready)>;

// All on the core that owns the watch. Errc::kNotOnCore off a core,
// Errc::kAlreadyExists / kInvalidArgument for a watched / unwatched fd,
// Errc::kSystem when epoll refuses (EBADF, EPERM for regular files, ...).
Status watch_fd(int fd, uint32_t events, FdCallback callback);
Status modify_fd(int fd, uint32_t events);
Status unwatch_fd(int fd);
// How many times `core` has asked epoll for ready fds (epoll_wait and
// epoll_pwait2 calls), for counting system calls.
uint64_t poll_calls(CoreId core);

namespace detail {
// The runtime makes and frees each core's epoll set and wake-up eventfd.
void create_poller(uint32_t core);
void destroy_poller(uint32_t core);
}  // namespace detail

}  // namespace ebb::hosted
