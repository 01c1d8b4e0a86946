#include "runtime/future.h"

namespace ebb::detail {

void future_misuse(const char* what, CoreId home) {
  if (home == kNoCore) panic("%s", what);
  panic("%s (the Future belongs to core %u; consume it there, or use submit_to)", what, home);
}

}  // namespace ebb::detail
