// What both ebb-memcached harnesses link: the runtime's start, and the
// sanitizer settings that go with a runtime that is never shut down.

#include "tests/fuzz/session_fuzz.h"

// Leaks are looked for per input, by libFuzzer (-detect_leaks, on by
// default): an input whose mallocs outnumber its frees is run again under
// LeakSanitizer. The check at exit would only find the Ebbs of the runtime
// that is never shut down (the root registry that holds them is gone by then),
// so it is off.
extern "C" const char* __lsan_default_options() {
  return "leak_check_at_exit=0";
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  ebb::fuzz::g_runtime = new ebb::Runtime(ebb::RuntimeOptions{.cores = 1, .pin = false});
  return 0;
}
