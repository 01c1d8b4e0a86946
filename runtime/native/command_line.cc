#include "runtime/native/command_line.h"

#include <cstring>

namespace ebb::native {
namespace {

bool parse_u32(const char* text, uint32_t max, uint32_t* out) {
  if (*text == '\0') return false;
  uint64_t v = 0;
  for (; *text != '\0'; ++text) {
    if (*text < '0' || *text > '9') return false;
    v = v * 10 + static_cast<uint64_t>(*text - '0');
    if (v > max) return false;
  }
  *out = static_cast<uint32_t>(v);
  return true;
}

Status image_option(char* word, ImageOptions& options) {
  char* equals = std::strchr(word, '=');
  if (equals == nullptr)
    return Error(Errc::kInvalidArgument, "command line: image option without a value (ebb.NAME=VALUE)");
  *equals = '\0';
  const char* name = word + 4;
  const char* value = equals + 1;
  if (std::strcmp(name, "cores") == 0) {
    if (!parse_u32(value, 1024, &options.cores) || options.cores == 0)
      return Error(Errc::kInvalidArgument, "command line: ebb.cores wants a number from 1 to 1024");
    return {};
  }
  if (std::strcmp(name, "probe") == 0) {
    uint32_t v = 0;
    if (!parse_u32(value, 1, &v)) return Error(Errc::kInvalidArgument, "command line: ebb.probe wants 0 or 1");
    options.probe = v == 1;
    return {};
  }
  if (std::strcmp(name, "apic") == 0) {
    if (std::strcmp(value, "auto") == 0) {
      options.apic = ApicChoice::kAuto;
    } else if (std::strcmp(value, "xapic") == 0) {
      options.apic = ApicChoice::kXApic;
    } else if (std::strcmp(value, "x2apic") == 0) {
      options.apic = ApicChoice::kX2Apic;
    } else {
      return Error(Errc::kInvalidArgument, "command line: ebb.apic wants auto, xapic or x2apic");
    }
    return {};
  }
  return Error(Errc::kInvalidArgument,
               "command line: unknown image option (known: ebb.apic, ebb.cores, ebb.probe)");
}

}  // namespace

Status parse_command_line(char* text, const char* program, CommandLine& out) {
  out.argc = 0;
  out.argv[out.argc++] = const_cast<char*>(program);
  char* p = text;
  while (*p != '\0') {
    while (*p == ' ' || *p == '\t') *p++ = '\0';
    if (*p == '\0') break;
    char* word = p;
    while (*p != '\0' && *p != ' ' && *p != '\t') ++p;
    if (*p != '\0') *p++ = '\0';
    if (std::strncmp(word, "ebb.", 4) == 0) {
      if (Status s = image_option(word, out.options); !s) return s;
      continue;
    }
    if (out.argc == static_cast<int>(CommandLine::kMaxArgs))
      return Error(Errc::kInvalidArgument, "command line: too many arguments",
                   static_cast<int64_t>(CommandLine::kMaxArgs));
    out.argv[out.argc++] = word;
  }
  out.argv[out.argc] = nullptr;
  return {};
}

}  // namespace ebb::native
