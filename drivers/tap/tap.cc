#include "drivers/tap/tap.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <mutex>
#include <set>
#include <utility>

#include <sys/epoll.h>

#include "runtime/hosted/fd_watch.h"
#include "runtime/hash.h"

namespace ebb::drivers {
namespace {

// A chain with more links than this is gathered into one before writev: a
// frame is small, so that never happens on a sane path, and the iovec array
// stays on the stack.
constexpr int kMaxIov = 64;
static_assert(kMaxIov <= IOV_MAX);

// Room for a frame of the MTU plus a VLAN tag and a little more; a read that
// fills the buffer exactly may have been cut short and is dropped.
constexpr std::size_t kReceiveSlack = 32;

// Error messages are static strings; the ones that name a device are kept
// for the life of the process (a process opens few distinct devices, and a
// cap keeps a retry loop over fresh names from growing it).
// "TUNSETIFF NAME (why)", or `fallback` past the cap.
const char* tunsetiff_message(std::string_view name, const char* why, const char* fallback) {
  static std::mutex mutex;
  static std::set<std::string, std::less<>> messages;
  constexpr std::size_t kMaxMessages = 256;
  std::string text = "TUNSETIFF " + std::string(name) + " (" + why + ")";
  std::lock_guard lock(mutex);
  if (auto it = messages.find(text); it != messages.end()) return it->c_str();
  if (messages.size() >= kMaxMessages) return fallback;
  return messages.insert(std::move(text)).first->c_str();
}

Error tunsetiff_error(std::string_view name, int err) {
  const char* why = "the kernel refused the TAP";
  const char* fallback = "TUNSETIFF failed";
  switch (err) {
    case EINVAL:
      why = "a bad name, not a TAP, or its multi_queue flag does not match queues";
      break;
    case EPERM:
      why = "needs CAP_NET_ADMIN, or to be the TAP's owner";
      break;
    case EBUSY:
      why = "already attached elsewhere";
      break;
  }
  return Error::from_errno(tunsetiff_message(name, why, fallback), err);
}

// One queue's fd attached to `name`.
Result<int> attach(std::string_view name, bool multi_queue) {
  const int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return Error::from_errno("cannot open /dev/net/tun", errno);
  ifreq request{};
  std::memcpy(request.ifr_name, name.data(), name.size());
  request.ifr_flags = IFF_TAP | IFF_NO_PI | (multi_queue ? IFF_MULTI_QUEUE : 0);
  if (::ioctl(fd, TUNSETIFF, &request) != 0) {
    const int err = errno;
    ::close(fd);
    return tunsetiff_error(name, err);
  }
  return fd;
}

// The interface's MTU, asked in the current network namespace (the one the
// TAP was attached in).
uint32_t read_mtu(std::string_view name) {
  constexpr uint32_t kDefault = 1500;
  const int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return kDefault;
  ifreq request{};
  std::memcpy(request.ifr_name, name.data(), name.size());
  const bool ok = ::ioctl(sock, SIOCGIFMTU, &request) == 0 && request.ifr_mtu > 0;
  ::close(sock);
  return ok ? static_cast<uint32_t>(request.ifr_mtu) : kDefault;
}

// Stable across runs, so a stack keeps its MAC on a given TAP.
uint32_t name_hash(std::string_view name) { return fnv1a(name); }

// Counters are written by the queue's core and may be read from any thread.
void bump(uint64_t& counter, uint64_t by = 1) {
  std::atomic_ref<uint64_t> c(counter);
  c.store(c.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

uint64_t read_counter(const uint64_t& counter) {
  return std::atomic_ref<uint64_t>(const_cast<uint64_t&>(counter)).load(std::memory_order_relaxed);
}

}  // namespace

TapCounters& TapCounters::operator+=(const TapCounters& o) {
  frames_in += o.frames_in;
  bytes_in += o.bytes_in;
  frames_out += o.frames_out;
  bytes_out += o.bytes_out;
  drops_full += o.drops_full;
  errors += o.errors;
  return *this;
}

TapDevice::Queue::~Queue() {
  if (fd >= 0) ::close(fd);
}

TapDevice::TapDevice(TapDevice&& other) noexcept
    : name_(std::move(other.name_)),
      mac_(other.mac_),
      mtu_(other.mtu_),
      queue_count_(std::exchange(other.queue_count_, 0)),
      queues_(std::move(other.queues_)) {}

TapDevice& TapDevice::operator=(TapDevice&& other) noexcept {
  if (this != &other) {
    name_ = std::move(other.name_);
    mac_ = other.mac_;
    mtu_ = other.mtu_;
    queue_count_ = std::exchange(other.queue_count_, 0);
    queues_ = std::move(other.queues_);
  }
  return *this;
}

Result<TapDevice> TapDevice::Open(std::string_view name, TapOptions options) {
  if (name.empty() || name.size() > IFNAMSIZ - 1)
    return Error(Errc::kInvalidArgument, "TAP name must have 1 to IFNAMSIZ-1 (15) characters",
                 static_cast<int64_t>(name.size()));
  if (name.find('\0') != std::string_view::npos)
    return Error(Errc::kInvalidArgument, "TAP name has a NUL character");
  if (options.queues < 1 || options.queues > kMaxQueues)
    return Error(Errc::kInvalidArgument, "TAP queues must be 1 to 256", options.queues);

  TapDevice device;
  device.name_ = std::string(name);
  device.queue_count_ = options.queues;
  device.queues_ = std::make_unique<Queue[]>(options.queues);
  const bool multi_queue = options.queues > 1;
  for (uint32_t q = 0; q < options.queues; ++q) {
    Result<int> fd = attach(name, multi_queue);
    // One queue on a multi_queue TAP: the kernel wants the flag all the same.
    if (!fd && !multi_queue && fd.error().sys_errno() == EINVAL) {
      if (Result<int> again = attach(name, true)) fd = again;
    }
    if (!fd) return fd.error();  // the fds opened so far close with `device`
    device.queues_[q].fd = *fd;
  }
  device.mtu_ = read_mtu(name);
  device.mac_ = options.mac ? *options.mac : net::MacAddress::Local(name_hash(name));
  return Result<TapDevice>(std::move(device));
}

Status TapDevice::transmit(uint32_t queue, net::IOBuf frame) {
  Queue& q = queue_at(queue);
  const std::size_t length = frame.length();
  if (length > mtu_ + net::kEthernetHeaderBytes) {
    bump(q.counters.errors);
    return Error(Errc::kInvalidArgument, "frame longer than the TAP's MTU + Ethernet header",
                 static_cast<int64_t>(length));
  }
  if (length < net::kEthernetHeaderBytes) {
    bump(q.counters.errors);
    return Error(Errc::kInvalidArgument, "frame shorter than an Ethernet header",
                 static_cast<int64_t>(length));
  }
  iovec iov[kMaxIov];
  int count = 0;
  bool too_many = false;
  frame.for_each_range([&](const uint8_t* data, std::size_t size) {
    if (count == kMaxIov) {
      too_many = true;
      return;
    }
    iov[count++] = iovec{const_cast<uint8_t*>(data), size};
  });
  if (too_many) {
    Result<const uint8_t*> whole = frame.gather(length);
    if (!whole) {
      bump(q.counters.errors);
      return whole.error();
    }
    iov[0] = iovec{const_cast<uint8_t*>(*whole), length};
    count = 1;
  }
  const ssize_t written = ::writev(q.fd, iov, count);
  if (written < 0) {
    const int err = errno;
    if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) {
      bump(q.counters.drops_full);
      return Error(Errc::kExhausted, "TAP has no room for the frame (dropped)");
    }
    bump(q.counters.errors);
    if (err == EIO) return Error::from_errno("TAP write failed (is the interface down?)", err);
    return Error::from_errno("TAP write failed", err);
  }
  if (static_cast<std::size_t>(written) != length) {
    bump(q.counters.errors);
    return Error(Errc::kSystem, "TAP took part of a frame", written);
  }
  bump(q.counters.frames_out);
  bump(q.counters.bytes_out, length);
  return ok_status();
}

Result<net::IOBuf> TapDevice::read_frame(uint32_t queue) {
  Queue& q = queue_at(queue);
  const std::size_t capacity = mtu_ + net::kEthernetHeaderBytes + kReceiveSlack;
  for (;;) {
    if (q.spare.tailroom() < capacity) {
      Result<net::IOBuf> fresh = net::IOBuf::Create(capacity, kReceiveHeadroom);
      if (!fresh) {
        bump(q.counters.errors);
        return fresh.error();
      }
      q.spare = std::move(fresh).value();
    }
    // The spare is one empty link: read into its tailroom, then take the
    // bytes in. A read that finds nothing leaves it as it was.
    uint8_t* data = q.spare.push_back(0);
    const ssize_t n = ::read(q.fd, data, capacity);
    if (n < 0) {
      const int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK) return Error(Errc::kExhausted, "no frame waiting");
      if (err == EINTR) continue;
      bump(q.counters.errors);
      return Error::from_errno("TAP read failed", err);
    }
    if (n == 0) {  // not a frame, and nothing consumed: do not spin on it
      bump(q.counters.errors);
      return Error(Errc::kSystem, "TAP read returned no bytes");
    }
    const auto size = static_cast<std::size_t>(n);
    if (size >= capacity || size < net::kEthernetHeaderBytes) {
      // Maybe cut short, or a runt: not a frame to hand up.
      bump(q.counters.errors);
      continue;
    }
    q.spare.push_back(size);
    bump(q.counters.frames_in);
    bump(q.counters.bytes_in, size);
    return std::move(q.spare);
  }
}

TapCounters TapDevice::counters(uint32_t queue) const {
  const TapCounters& live = queue_at(queue).counters;
  TapCounters c;
  c.frames_in = read_counter(live.frames_in);
  c.bytes_in = read_counter(live.bytes_in);
  c.frames_out = read_counter(live.frames_out);
  c.bytes_out = read_counter(live.bytes_out);
  c.drops_full = read_counter(live.drops_full);
  c.errors = read_counter(live.errors);
  return c;
}

TapCounters TapDevice::counters() const {
  TapCounters total;
  for (uint32_t q = 0; q < queue_count_; ++q)
    total += counters(q);
  return total;
}

Status TapDevice::watch(uint32_t queue, Function<void()> on_ready) {
  return hosted::watch_fd(fd(queue), EPOLLIN,
                          [ready = std::move(on_ready)](uint32_t) mutable { ready(); });
}

void TapDevice::unwatch(uint32_t queue) { (void)hosted::unwatch_fd(fd(queue)); }

}  // namespace ebb::drivers
