// The C library functions the image's code and the compiler's output call:
// memory and string primitives, snprintf and friends (runtime/native/format.cc),
// getopt (runtime/native/getopt.cc), the time of day, inet_pton, abort.
// Nothing else of a libc exists in the image.

#include <arpa/inet.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <ctime>

#include "runtime/native/format.h"
#include "runtime/native/smp.h"
#include "runtime/native/x86.h"
#include "runtime/panic.h"
#include "runtime/platform.h"
#include "runtime/stats.h"

namespace {

// The time of day from the CMOS real-time clock (QEMU sets it from the
// host's clock, in UTC), read once: later reads add the runtime's clock.
struct WallClock {
  int64_t unix_seconds;  // at boot_ns
  uint64_t boot_ns;
};

uint8_t cmos(uint8_t reg) {
  ebb::native::outb(0x70, reg);
  return ebb::native::inb(0x71);
}

// Days since 1970-01-01 of a date in the proleptic Gregorian calendar
// (Howard Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

int64_t read_rtc() {
  constexpr uint8_t kRegisters[] = {0x00, 0x02, 0x04, 0x07, 0x08, 0x09};  // s m h day month year
  uint8_t now[6], again[6];
  // The same values twice, neither read during an update: a consistent time.
  // Bounded: a machine without a CMOS clock reads 0xff for ever (update in
  // progress); its time is then the epoch.
  auto read = [&](uint8_t* out) {
    for (int wait = 0; cmos(0x0a) & 0x80; ++wait) {  // an update lasts under 2 ms
      if (wait == 1'000'000) return false;
    }
    for (int i = 0; i < 6; ++i) out[i] = cmos(kRegisters[i]);
    return true;
  };
  if (!read(again)) return 0;
  int tries = 0;
  do {
    for (int i = 0; i < 6; ++i) now[i] = again[i];
    if (!read(again) || ++tries == 100) return 0;
  } while (__builtin_memcmp(now, again, sizeof now) != 0);
  const uint8_t status_b = cmos(0x0b);
  const bool pm = (now[2] & 0x80) != 0;
  now[2] &= 0x7f;
  if ((status_b & 0x04) == 0)  // BCD, not binary
    for (uint8_t& v : now) v = static_cast<uint8_t>((v >> 4) * 10 + (v & 0x0f));
  if ((status_b & 0x02) == 0 && pm != (now[2] == 12))  // 12-hour: 12 AM is 0, 1 PM is 13
    now[2] = static_cast<uint8_t>((now[2] + 12) % 24);
  // Two digits of year: this century (the century register is not always there).
  const int64_t days = days_from_civil(2000 + now[5], now[4], now[3]);
  return days * 86400 + now[2] * 3600 + now[1] * 60 + now[0];
}

const WallClock& wall_clock() {
  static WallClock clock;
  static std::atomic<int> state{0};  // 0: unread, 1: being read, 2: read
  int expected = 0;
  if (state.compare_exchange_strong(expected, 1, std::memory_order_acquire)) {
    clock.boot_ns = ebb::platform::now_ns();
    clock.unix_seconds = read_rtc();
    state.store(2, std::memory_order_release);
  }
  while (state.load(std::memory_order_acquire) != 2) {
  }
  return clock;
}

}  // namespace

extern "C" {

// errno, per CPU, for the library code that sets it.
int* __errno_location() {
  static thread_local int number;
  return &number;
}


void* memset(void* to, int c, std::size_t n) {
  auto* d = static_cast<uint8_t*>(to);
  asm volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
  return to;
}

void* memcpy(void* to, const void* from, std::size_t n) {
  void* d = to;
  asm volatile("rep movsb" : "+D"(d), "+S"(from), "+c"(n) : : "memory");
  return to;
}

void* memmove(void* to, const void* from, std::size_t n) {
  auto* d = static_cast<uint8_t*>(to);
  const auto* s = static_cast<const uint8_t*>(from);
  if (d <= s || d >= s + n) return memcpy(to, from, n);
  // Overlapping with the target above: copy backwards.
  d += n - 1;
  s += n - 1;
  asm volatile("std; rep movsb; cld" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
  return to;
}

int memcmp(const void* a, const void* b, std::size_t n) {
  const auto* x = static_cast<const uint8_t*>(a);
  const auto* y = static_cast<const uint8_t*>(b);
  for (std::size_t i = 0; i < n; ++i)
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
}

void* memchr(const void* s, int c, std::size_t n) {
  const auto* p = static_cast<const uint8_t*>(s);
  for (std::size_t i = 0; i < n; ++i)
    if (p[i] == static_cast<uint8_t>(c)) return const_cast<uint8_t*>(p + i);
  return nullptr;
}

std::size_t strlen(const char* s) {
  std::size_t n = 0;
  while (s[n] != '\0') ++n;
  return n;
}

int strcmp(const char* a, const char* b) {
  while (*a != '\0' && *a == *b) ++a, ++b;
  return static_cast<uint8_t>(*a) - static_cast<uint8_t>(*b);
}

int strncmp(const char* a, const char* b, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] != b[i] || a[i] == '\0') return static_cast<uint8_t>(a[i]) - static_cast<uint8_t>(b[i]);
  }
  return 0;
}

char* strncpy(char* to, const char* from, std::size_t n) {
  std::size_t i = 0;
  for (; i < n && from[i] != '\0'; ++i) to[i] = from[i];
  for (; i < n; ++i) to[i] = '\0';
  return to;
}

char* strcat(char* to, const char* from) {
  char* end = to + strlen(to);
  while ((*end++ = *from++) != '\0') {
  }
  return to;
}

const char* strchr(const char* s, int c) {
  for (;; ++s) {
    if (*s == static_cast<char>(c)) return s;
    if (*s == '\0') return nullptr;
  }
}

int vsnprintf(char* out, std::size_t size, const char* format, va_list args) {
  return ebb::native::format(out, size, format, args);
}

int snprintf(char* out, std::size_t size, const char* format, ...) {
  va_list args;
  va_start(args, format);
  const int n = ebb::native::format(out, size, format, args);
  va_end(args);
  return n;
}

// printf and friends write to the console (stdout and stderr are both it).
int vprintf(const char* format, va_list args) {
  char text[1024];
  va_list again;
  va_copy(again, args);
  const int n = ebb::native::format(text, sizeof text, format, args);
  if (n < static_cast<int>(sizeof text)) {
    ebb::platform::console_write(text, static_cast<std::size_t>(n));
  } else {  // longer than the buffer: format once more into the heap
    char* big = static_cast<char*>(__builtin_malloc(static_cast<std::size_t>(n) + 1));
    if (big != nullptr) {
      ebb::native::format(big, static_cast<std::size_t>(n) + 1, format, again);
      ebb::platform::console_write(big, static_cast<std::size_t>(n));
      __builtin_free(big);
    }
  }
  va_end(again);
  return n;
}

int printf(const char* format, ...) {
  va_list args;
  va_start(args, format);
  const int n = vprintf(format, args);
  va_end(args);
  return n;
}

// stdout and stderr: both the console.
static FILE console_files[2];
FILE* stdout = &console_files[0];
FILE* stderr = &console_files[1];

int vfprintf(FILE*, const char* format, va_list args) { return vprintf(format, args); }

int fprintf(FILE* file, const char* format, ...) {
  va_list args;
  va_start(args, format);
  const int n = vfprintf(file, format, args);
  va_end(args);
  return n;
}

int fputs(const char* text, FILE*) {
  ebb::platform::console_write(text, strlen(text));
  return 1;
}

int fputc(int c, FILE*) {
  const char ch = static_cast<char>(c);
  ebb::platform::console_write(&ch, 1);
  return c;
}

int putchar(int c) { return fputc(c, stdout); }

std::size_t fwrite(const void* data, std::size_t size, std::size_t count, FILE*) {
  ebb::platform::console_write(static_cast<const char*>(data), size * count);
  return count;
}

int fflush(FILE*) { return 0; }  // the console is unbuffered

// Numbers from text, as the C library reads them (base 0 takes 0x and 0).
unsigned long long strtoull(const char* text, char** end, int base) {
  const char* p = text;
  while (*p == ' ' || *p == '\t' || *p == '\n') ++p;
  bool negative = false;
  if (*p == '+' || *p == '-') negative = *p++ == '-';
  if ((base == 0 || base == 16) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
    p += 2;
    base = 16;
  } else if (base == 0) {
    base = p[0] == '0' ? 8 : 10;
  }
  unsigned long long value = 0;
  bool overflow = false, any = false;
  for (;; ++p) {
    int digit;
    if (*p >= '0' && *p <= '9') digit = *p - '0';
    else if (*p >= 'a' && *p <= 'z') digit = *p - 'a' + 10;
    else if (*p >= 'A' && *p <= 'Z') digit = *p - 'A' + 10;
    else break;
    if (digit >= base) break;
    any = true;
    if (value > (~0ull - static_cast<unsigned>(digit)) / static_cast<unsigned>(base)) overflow = true;
    value = value * static_cast<unsigned>(base) + static_cast<unsigned>(digit);
  }
  if (end != nullptr) *end = const_cast<char*>(any ? p : text);
  if (overflow) {
    *__errno_location() = 34;  // ERANGE
    return ~0ull;
  }
  return negative ? 0 - value : value;
}

unsigned long strtoul(const char* text, char** end, int base) { return strtoull(text, end, base); }

long long strtoll(const char* text, char** end, int base) {
  return static_cast<long long>(strtoull(text, end, base));
}

long strtol(const char* text, char** end, int base) { return static_cast<long>(strtoull(text, end, base)); }

int puts(const char* text) {
  ebb::platform::console_write(text, strlen(text));
  ebb::platform::console_write("\n", 1);
  return 1;
}

// Error values carry Linux's errno numbers (the same code builds hosted):
// the common ones by their usual names, the rest by number.
char* strerror_r(int number, char* buffer, std::size_t size) {
  static const struct {
    int number;
    const char* text;
  } kNames[] = {{1, "Operation not permitted"}, {2, "No such file or directory"},
                {4, "Interrupted system call"}, {5, "Input/output error"},
                {9, "Bad file descriptor"}, {11, "Resource temporarily unavailable"},
                {12, "Cannot allocate memory"}, {13, "Permission denied"},
                {16, "Device or resource busy"}, {17, "File exists"},
                {22, "Invalid argument"}, {24, "Too many open files"},
                {28, "No space left on device"}, {32, "Broken pipe"},
                {95, "Operation not supported"}, {98, "Address already in use"},
                {99, "Cannot assign requested address"}, {104, "Connection reset by peer"},
                {110, "Connection timed out"}, {111, "Connection refused"},
                {113, "No route to host"}};
  for (const auto& name : kNames)
    if (name.number == number) return const_cast<char*>(name.text);
  snprintf(buffer, size, "error %d", number);
  return buffer;
}

// Time for std::this_thread::sleep_for (libstdc++'s calls nanosleep): the
// owner on the boot CPU lets core 0 run meanwhile; any other CPU polls
// the clock.
int nanosleep(const struct timespec* duration, struct timespec* remaining) {
  ebb::native::sleep_until(ebb::platform::now_ns() + static_cast<uint64_t>(duration->tv_sec) * 1'000'000'000u +
                           static_cast<uint64_t>(duration->tv_nsec));
  if (remaining != nullptr) remaining->tv_sec = remaining->tv_nsec = 0;
  return 0;
}


// libstdc++'s shared_ptr counts skip atomics when this says one thread:
// the image has many CPUs.
char __libc_single_threaded = 0;

// std::this_thread::yield: the Runtime's owner gives core 0 (which shares
// the boot CPU with it) a turn, until core 0 idles; elsewhere a pause.
int sched_yield() {
  ebb::native::sleep_until(0);  // the owner: core 0's turn, until it idles
  return 0;
}

char* strstr(const char* haystack, const char* needle) {
  const std::size_t n = strlen(needle);
  for (; *haystack != '\0'; ++haystack)
    if (strncmp(haystack, needle, n) == 0) return const_cast<char*>(haystack);
  return n == 0 ? const_cast<char*>(haystack) : nullptr;
}

// Seconds since 1970 (UTC), from the RTC and the runtime's clock.
time_t time(time_t* out) {
  const WallClock& clock = wall_clock();
  const time_t now =
      static_cast<time_t>(clock.unix_seconds +
                          static_cast<int64_t>((ebb::platform::now_ns() - clock.boot_ns) / 1'000'000'000u));
  if (out != nullptr) *out = now;
  return now;
}

// One image is one process: it has the first pid.
pid_t getpid() { return 1; }

// The CPU time of "the process": the time the running cores spent in
// events, as user time (what Linux sums over a process's threads); there is
// no kernel under the image, so no system time. (Zeros before the runtime
// starts and after it stops: stopped cores report none.)
int getrusage(int who, struct rusage* usage) {
  if (who != RUSAGE_SELF) {
    *__errno_location() = 22;  // EINVAL: no children, no threads of their own
    return -1;
  }
  __builtin_memset(usage, 0, sizeof *usage);
  const uint64_t busy_ns = ebb::total_stats().busy_ns;
  usage->ru_utime.tv_sec = static_cast<time_t>(busy_ns / 1'000'000'000u);
  usage->ru_utime.tv_usec = static_cast<suseconds_t>(busy_ns % 1'000'000'000u / 1000);
  return 0;
}

// Text to an address, as glibc reads it: IPv4 only (four decimal parts of
// at most 255, no leading zeros, nothing after); other families are not
// supported (-1, EAFNOSUPPORT).
int inet_pton(int family, const char* text, void* out) {
  if (family != AF_INET) {
    *__errno_location() = 97;  // EAFNOSUPPORT
    return -1;
  }
  uint8_t parts[4];
  for (int i = 0; i < 4; ++i) {
    if (i > 0 && *text++ != '.') return 0;
    if (*text < '0' || *text > '9') return 0;
    if (text[0] == '0' && text[1] >= '0' && text[1] <= '9') return 0;  // leading zero
    unsigned value = 0;
    for (; *text >= '0' && *text <= '9'; ++text) {
      value = value * 10 + static_cast<unsigned>(*text - '0');
      if (value > 255) return 0;
    }
    parts[i] = static_cast<uint8_t>(value);
  }
  if (*text != '\0') return 0;
  __builtin_memcpy(out, parts, sizeof parts);  // network order: as written
  return 1;
}

[[noreturn]] void abort() { ebb::panic("abort() called"); }

}  // extern "C"
