#include "runtime/error.h"

#include <cstdio>
#include <cstring>

namespace ebb {

const char* errc_name(Errc code) {
  switch (code) {
    case Errc::kInvalidArgument: return "invalid argument";
    case Errc::kNoSuchCore: return "no such core";
    case Errc::kNotOnCore: return "not on a core";
    case Errc::kShuttingDown: return "shutting down";
    case Errc::kNoSuchEbb: return "no such Ebb";
    case Errc::kEbbDestroyed: return "Ebb destroyed";
    case Errc::kWrongEbbType: return "wrong Ebb type";
    case Errc::kAlreadyExists: return "already exists";
    case Errc::kBrokenPromise: return "broken promise";
    case Errc::kExhausted: return "exhausted";
    case Errc::kCancelled: return "cancelled";
    case Errc::kTimedOut: return "timed out";
    case Errc::kSystem: return "system error";
    case Errc::kUnreachable: return "unreachable";
  }
  return "unknown error";
}

const char* Error::describe(char* buf, std::size_t size) const {
  if (size == 0) return buf;
  int n = std::snprintf(buf, size, "%s", message_ != nullptr ? message_ : errc_name(code_));
  auto room = [&] { return n >= 0 && static_cast<std::size_t>(n) < size; };
  if (room() && has_value()) n += std::snprintf(buf + n, size - n, " (%lld)", static_cast<long long>(value_));
  if (room() && sys_errno_ != 0) {
    char scratch[128];
    // GNU strerror_r returns the text (maybe not in scratch).
    const char* text = strerror_r(sys_errno_, scratch, sizeof scratch);
    n += std::snprintf(buf + n, size - n, ": %s", text);
  }
  if (room()) std::snprintf(buf + n, size - n, " [%s]", errc_name(code_));
  return buf;
}

}  // namespace ebb
