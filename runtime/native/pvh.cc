#include "runtime/native/pvh.h"

#include "runtime/native/x86.h"

namespace ebb::native {
namespace {

struct StartInfo {  // hvm_start_info
  uint32_t magic;
  uint32_t version;
  uint32_t flags;
  uint32_t module_count;
  uint64_t modules;
  uint64_t command_line;
  uint64_t rsdp;
  uint64_t memory_map;  // version 1 on
  uint32_t memory_map_entries;
  uint32_t reserved;
};

struct MapEntry {  // hvm_memmap_table_entry
  uint64_t base;
  uint64_t bytes;
  uint32_t type;
  uint32_t reserved;
};

constexpr uint32_t kStartInfoMagic = 0x336ec578;
constexpr uint32_t kRam = 1;  // E820 type 1: usable
// Pointers the boot page tables reach: the identity map of the low 4 GiB.
constexpr uint64_t kMapped = uint64_t{4} << 30;

template <class T>
const T* physical(uint64_t address) {
  return reinterpret_cast<const T*>(address);
}

}  // namespace

Status read_boot_info(uint64_t start_info, BootInfo& info) {
  if (start_info == 0 || start_info + sizeof(StartInfo) > kMapped)
    return Error(Errc::kInvalidArgument, "boot: no PVH start info from the loader");
  const StartInfo& s = *physical<StartInfo>(start_info);
  if (s.magic != kStartInfoMagic)
    return Error(Errc::kInvalidArgument, "boot: PVH start info has a bad magic number", s.magic);
  info.rsdp = s.rsdp;

  if (s.command_line != 0 && s.command_line < kMapped) {
    const char* text = physical<char>(s.command_line);
    std::size_t n = 0;
    while (text[n] != '\0') {
      if (n + 1 >= BootInfo::kMaxCommandLine)
        return Error(Errc::kInvalidArgument, "boot: kernel command line too long",
                     static_cast<int64_t>(BootInfo::kMaxCommandLine - 1));
      info.command_line[n] = text[n];
      ++n;
    }
    info.command_line[n] = '\0';
  }

  if (s.version < 1 || s.memory_map == 0 || s.memory_map_entries == 0)
    return Error(Errc::kInvalidArgument, "boot: the loader gave no memory map");
  if (s.memory_map + uint64_t{s.memory_map_entries} * sizeof(MapEntry) > kMapped)
    return Error(Errc::kInvalidArgument, "boot: memory map out of reach", s.memory_map_entries);
  const MapEntry* map = physical<MapEntry>(s.memory_map);
  for (uint32_t i = 0; i < s.memory_map_entries; ++i) {
    const MapEntry& e = map[i];
    if (e.type != kRam || e.bytes == 0) continue;
    if (e.base + e.bytes < e.base)
      return Error(Errc::kInvalidArgument, "boot: memory map entry wraps around", i);
    if (info.ram_ranges == BootInfo::kMaxRanges)
      return Error(Errc::kInvalidArgument, "boot: memory map has too many ranges", s.memory_map_entries);
    // Sorted insert; overlapping ranges mean a broken map.
    std::size_t at = info.ram_ranges;
    while (at > 0 && info.ram[at - 1].base > e.base) {
      info.ram[at] = info.ram[at - 1];
      --at;
    }
    info.ram[at] = {e.base, e.bytes};
    ++info.ram_ranges;
    info.ram_bytes += e.bytes;
  }
  for (std::size_t i = 1; i < info.ram_ranges; ++i)
    if (info.ram[i - 1].base + info.ram[i - 1].bytes > info.ram[i].base)
      return Error(Errc::kInvalidArgument, "boot: memory map ranges overlap", static_cast<int64_t>(i));
  if (info.ram_ranges == 0) return Error(Errc::kInvalidArgument, "boot: memory map has no usable RAM");
  return {};
}

}  // namespace ebb::native
