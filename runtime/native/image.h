#pragma once
// What an image provides: its name and its main, called on the boot CPU once
// the machine is up, with the application's part of the kernel command line.
// Its return value is the exit code handed to the host.

#include "runtime/native/command_line.h"
#include "runtime/native/pvh.h"

namespace ebb::native {

extern const char* const kImageName;
int image_main(int argc, char** argv);

// The machine as boot found it (for images that report it).
const BootInfo& boot_info();
const ImageOptions& image_options();

}  // namespace ebb::native
