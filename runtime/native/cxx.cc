// The C++ runtime symbols the compiler's output refers to: operator new and
// delete (on malloc, which every image takes from the general-purpose
// allocator Ebb: ebbs/memory/general/malloc_override.cc), static destructor
// registration (nothing is ever destroyed: the machine powers off), the
// guards of function-local statics, pure virtual calls and the library's
// would-be exceptions (panics).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>

#include "runtime/panic.h"

extern "C" {
void* __dso_handle = nullptr;
int __cxa_atexit(void (*)(void*), void*, void*) { return 0; }
// Nor does a CPU ever exit: its thread_local objects live as long as it.
int __cxa_thread_atexit(void (*)(void*), void*, void*) { return 0; }
[[noreturn]] void __cxa_pure_virtual() { ebb::panic("pure virtual function called"); }

// A function-local static is built once even when several CPUs reach it
// first at the same time (as on hosted, where libstdc++ guards it): cores
// start together and fault the same Ebbs in, and a static built twice (the
// root registry, with the page allocator's entry in it) gives each core an
// Ebb of its own. The Itanium ABI's guard: its first byte, which the
// compiler's inline check reads, says built; here its second says being
// built. A CPU that finds it being built spins until it is: initializers
// are short and never block.
int __cxa_guard_acquire(uint64_t* guard) {
  std::atomic_ref<uint8_t> built(reinterpret_cast<uint8_t*>(guard)[0]);
  std::atomic_ref<uint8_t> building(reinterpret_cast<uint8_t*>(guard)[1]);
  for (;;) {
    if (built.load(std::memory_order_acquire) != 0) return 0;
    uint8_t idle = 0;
    if (building.compare_exchange_weak(idle, 1, std::memory_order_acquire)) {
      if (built.load(std::memory_order_acquire) == 0) return 1;  // ours to build
      building.store(0, std::memory_order_release);  // built in the meantime
      return 0;
    }
    __builtin_ia32_pause();
  }
}
void __cxa_guard_release(uint64_t* guard) {
  std::atomic_ref<uint8_t>(reinterpret_cast<uint8_t*>(guard)[0]).store(1, std::memory_order_release);
  std::atomic_ref<uint8_t>(reinterpret_cast<uint8_t*>(guard)[1]).store(0, std::memory_order_release);
}
void __cxa_guard_abort(uint64_t* guard) {
  std::atomic_ref<uint8_t>(reinterpret_cast<uint8_t*>(guard)[1]).store(0, std::memory_order_release);
}
}

namespace {
void* allocate_or_panic(std::size_t bytes, std::size_t alignment = 16) {
  void* p = alignment <= 16 ? std::malloc(bytes) : std::aligned_alloc(alignment, bytes);
  if (p == nullptr) ebb::panic("out of memory: operator new(%zu)", bytes);
  return p;
}
void* allocate_or_null(std::size_t bytes, std::size_t alignment = 16) noexcept {
  return alignment <= 16 ? std::malloc(bytes) : std::aligned_alloc(alignment, bytes);
}
}  // namespace

void* operator new(std::size_t bytes) { return allocate_or_panic(bytes); }
void* operator new[](std::size_t bytes) { return allocate_or_panic(bytes); }
void* operator new(std::size_t bytes, std::align_val_t a) { return allocate_or_panic(bytes, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t bytes, std::align_val_t a) { return allocate_or_panic(bytes, static_cast<std::size_t>(a)); }
void* operator new(std::size_t bytes, const std::nothrow_t&) noexcept { return allocate_or_null(bytes); }
void* operator new[](std::size_t bytes, const std::nothrow_t&) noexcept { return allocate_or_null(bytes); }
void* operator new(std::size_t bytes, std::align_val_t a, const std::nothrow_t&) noexcept {
  return allocate_or_null(bytes, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t bytes, std::align_val_t a, const std::nothrow_t&) noexcept {
  return allocate_or_null(bytes, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

// What libstdc++'s containers call where they would throw.
namespace std {
const nothrow_t nothrow{};  // libstdc++'s own comes with its new-handler machinery
[[noreturn]] void __throw_bad_alloc() { ebb::panic("std::bad_alloc"); }
[[noreturn]] void __throw_bad_array_new_length() { ebb::panic("std::bad_array_new_length"); }
[[noreturn]] void __throw_length_error(const char* what) { ebb::panic("std::length_error: %s", what); }
[[noreturn]] void __throw_out_of_range(const char* what) { ebb::panic("std::out_of_range: %s", what); }
[[noreturn]] void __throw_out_of_range_fmt(const char* what, ...) { ebb::panic("std::out_of_range: %s", what); }
[[noreturn]] void __throw_logic_error(const char* what) { ebb::panic("std::logic_error: %s", what); }
[[noreturn]] void __throw_invalid_argument(const char* what) { ebb::panic("std::invalid_argument: %s", what); }
[[noreturn]] void __throw_bad_function_call() { ebb::panic("std::bad_function_call"); }
[[noreturn]] void __throw_bad_optional_access() { ebb::panic("std::bad_optional_access"); }
[[noreturn]] void __throw_bad_variant_access(const char* what) { ebb::panic("std::bad_variant_access: %s", what); }
[[noreturn]] void __throw_system_error(int code) { ebb::panic("std::system_error %d", code); }
}  // namespace std

// make_shared's tag check without RTTI (libstdc++'s own is in an object
// that brings mutexes and exceptions along).
namespace std {
bool _Sp_make_shared_tag::_S_eq(const type_info& ti) noexcept {
  return &ti == &_Sp_make_shared_tag::_S_ti();
}
}  // namespace std
