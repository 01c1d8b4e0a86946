#include "runtime/panic.h"

#include <atomic>
#include <cstdarg>
#include <cstdio>

#include "runtime/core.h"
#include "runtime/platform.h"
#include "runtime/result.h"

namespace ebb {
namespace {

std::atomic<bool> g_panicking{false};

[[noreturn]] void vpanic(const char* file, int line, const char* condition, const char* format,
                         va_list args) {
  // A panic inside a panic (or on a second core at once) just stops.
  if (g_panicking.exchange(true)) platform::abort_process();
  char text[2048];
  std::size_t n = 0;
  auto append = [&](int written) {
    if (written > 0) n += static_cast<std::size_t>(written);
    if (n >= sizeof text) n = sizeof text - 1;
  };
  const CoreId core = this_core();
  if (core == kNoCore) append(std::snprintf(text, sizeof text, "ebbkit panic (off-core thread): "));
  else append(std::snprintf(text, sizeof text, "ebbkit panic on core %u: ", core));
  append(std::vsnprintf(text + n, sizeof text - n, format, args));
  if (condition != nullptr) {
    append(std::snprintf(text + n, sizeof text - n, "\n  check failed: %s\n  at %s:%d", condition,
                         file, line));
  }
  append(std::snprintf(text + n, sizeof text - n, "\nbacktrace:\n"));
  platform::console_write(text, n);
  platform::print_backtrace(2);
  platform::abort_process();
}

}  // namespace

void panic(const char* format, ...) {
  va_list args;
  va_start(args, format);
  vpanic(nullptr, 0, nullptr, format, args);
}

void detail::check_failed(const char* file, int line, const char* condition, const char* format,
                          ...) {
  va_list args;
  va_start(args, format);
  vpanic(file, line, condition, format, args);
}

void detail::result_has_error(const Error& error) {
  char text[kErrorTextSize];
  panic("Result::value() on an error: %s", error.describe(text, sizeof text));
}

}  // namespace ebb
