#pragma once
// What an image provides: an ordinary `int main(int argc, char** argv)`,
// called on the boot CPU once the machine is up, with the application's
// part of the kernel command line (argv[0] is the image's name, which
// ebb_add_image defines as kImageName). Its return value is the exit code
// handed to the host. The same main builds as a Linux program.

#include "runtime/native/command_line.h"
#include "runtime/native/pvh.h"

namespace ebb::native {

extern const char* const kImageName;

// The machine as boot found it (for images that report it).
const BootInfo& boot_info();
const ImageOptions& image_options();

// Boot's own end for what it cannot go on with: "ebbkit: WHAT: WHY" on the
// console and exit code 4 (kExitBootError).
[[noreturn]] void boot_failed(const char* what, const Status& why);

}  // namespace ebb::native
