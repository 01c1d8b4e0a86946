// The parts of every Ebb pattern's fault path that do not depend on the type.

#include "runtime/core.h"
#include "runtime/ref.h"
#include "runtime/root_registry.h"
#include "runtime/stats.h"

namespace ebb::detail {

Status begin_fault(EbbId id) {
  if (EBB_UNLIKELY(!on_core()))
    return Error(Errc::kNotOnCore, "Ref used off any core", id);
  count_rep_fault();
  return {};
}

void fault_failed(EbbId id, const char* type_name, const Error& error) {
  const char* hint = "";
  switch (error.code()) {
    case Errc::kNotOnCore:
      hint = "Ebbs are reached from events on a core: use Runtime::run_on, submit_to or "
             "spawn_remote";
      break;
    case Errc::kEbbDestroyed:
    case Errc::kNoSuchEbb:
      hint = "the Ebb was destroyed or never created; a timer, event or copy of the Ref "
             "outlived it?";
      break;
    case Errc::kWrongEbbType: {
      const char* actual = roots::type_name_of(id);
      panic("Ref<%s> used on Ebb %u, which is a %s", type_name, id,
            actual != nullptr ? actual : "(gone)");
    }
    default:
      break;
  }
  char text[kErrorTextSize];
  panic("Ref<%s> to Ebb %u: %s; %s", type_name, id, error.describe(text, sizeof text), hint);
}

}  // namespace ebb::detail
