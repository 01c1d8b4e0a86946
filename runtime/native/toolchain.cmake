# The native image: stock g++ in freestanding mode for bare x86-64 (no libc,
# no patched compiler). runtime/native supplies the few C and C++ runtime
# symbols the code needs. Used by the `native` preset.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER gcc)
set(CMAKE_CXX_COMPILER g++)
set(CMAKE_ASM_COMPILER gcc)
# Nothing links without the image's own startup code: try-compiles make archives.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

# No red zone (interrupts land on the running stack), the kernel code model
# (the image runs in the top 2 GiB), no stack protector or PIE (no runtime
# to support them), and no calls to memset/memcpy invented for loops
# inside the functions that implement them. Function-local statics keep
# their thread-safe guards (runtime/native/cxx.cc supplies them): cores
# reach the same ones at once.
set(EBB_NATIVE_FLAGS "-ffreestanding -mno-red-zone -mcmodel=kernel -fno-pie -fno-stack-protector -fno-tree-loop-distribute-patterns -fno-asynchronous-unwind-tables -fno-exceptions -fno-rtti -DEBB_PLATFORM_NATIVE=1")
set(CMAKE_C_FLAGS_INIT "${EBB_NATIVE_FLAGS}")
set(CMAKE_CXX_FLAGS_INIT "${EBB_NATIVE_FLAGS}")
set(CMAKE_ASM_FLAGS_INIT "-DEBB_PLATFORM_NATIVE=1")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-nostdlib -static -no-pie -Wl,-z,max-page-size=0x1000 -Wl,--build-id=none -Wl,--no-warn-rwx-segments")
# libstdc++'s archive only for what its headers leave out of line (the hash
# tables' rehash policy), libgcc for the compiler's helpers (popcount
# without POPCNT): last on every link line, after every library an image
# links, whatever order the images name theirs in.
set(CMAKE_CXX_STANDARD_LIBRARIES "-lstdc++ -lgcc")
