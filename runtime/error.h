#pragma once
// Errors are values: runtime, Ebbs and drivers build without exceptions.

#include <cstdint>

namespace ebb {

enum class Errc : uint16_t {
  kInvalidArgument = 1,
  kNoSuchCore,       // a core id at or past num_cores()
  kNotOnCore,        // an operation that needs a core was called from another thread
  kShuttingDown,     // the runtime no longer accepts work
  kNoSuchEbb,        // an EbbId with no root: never created, or destroyed and released
  kEbbDestroyed,     // an Ebb in the middle of being destroyed
  kWrongEbbType,     // a Ref<T> used on an id whose root is another type
  kAlreadyExists,
  kBrokenPromise,    // a Promise was dropped without a value
  kExhausted,        // a bounded resource ran out
  kCancelled,
  kTimedOut,
  kSystem,           // a system call failed; sys_errno() says why
  kUnreachable,      // a peer (another node) cannot be reached, or its connection was lost
};

const char* errc_name(Errc code);

// A code, a static message and an optional number that gives context (a core
// id, an Ebb id, a size). Trivially copyable so that Result<T> stays cheap.
class Error {
 public:
  constexpr Error(Errc code, const char* message, int64_t value = kNoValue, int sys_errno = 0)
      : message_(message), value_(value), code_(code), sys_errno_(sys_errno) {}

  static Error from_errno(const char* message, int sys_errno) {
    return Error(Errc::kSystem, message, kNoValue, sys_errno);
  }

  constexpr Errc code() const { return code_; }
  constexpr const char* message() const { return message_; }
  constexpr bool has_value() const { return value_ != kNoValue; }
  constexpr int64_t value() const { return value_; }
  constexpr int sys_errno() const { return sys_errno_; }

  // "message (value 7): Bad file descriptor [kSystem]" into buf; returns buf.
  const char* describe(char* buf, std::size_t size) const;

 private:
  static constexpr int64_t kNoValue = INT64_MIN;
  const char* message_;
  int64_t value_;
  Errc code_;
  int32_t sys_errno_;
};

// Enough room for any describe() output whose message is a literal.
inline constexpr std::size_t kErrorTextSize = 256;

}  // namespace ebb
