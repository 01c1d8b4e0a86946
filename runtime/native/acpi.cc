#include "runtime/native/acpi.h"

#include <cstring>

namespace ebb::native {
namespace {

struct [[gnu::packed]] Rsdp {
  char signature[8];  // "RSD PTR "
  uint8_t checksum;
  char oem[6];
  uint8_t revision;
  uint32_t rsdt;
  uint32_t length;  // revision 2 on
  uint64_t xsdt;
  uint8_t extended_checksum;
  uint8_t reserved[3];
};

struct [[gnu::packed]] TableHeader {
  char signature[4];
  uint32_t length;
  uint8_t revision;
  uint8_t checksum;
  char oem[6];
  char oem_table[8];
  uint32_t oem_revision;
  uint32_t creator;
  uint32_t creator_revision;
};

struct [[gnu::packed]] Madt {
  TableHeader header;
  uint32_t local_apic;
  uint32_t flags;
};

constexpr uint64_t kReachable = uint64_t{4} << 30;  // the identity map

bool sums_to_zero(const void* p, std::size_t n) {
  uint8_t sum = 0;
  for (std::size_t i = 0; i < n; ++i) sum = static_cast<uint8_t>(sum + static_cast<const uint8_t*>(p)[i]);
  return sum == 0;
}

const TableHeader* table_at(uint64_t address) {
  if (address == 0 || address + sizeof(TableHeader) > kReachable) return nullptr;
  const auto* t = reinterpret_cast<const TableHeader*>(address);
  if (t->length < sizeof(TableHeader) || address + t->length > kReachable) return nullptr;
  if (!sums_to_zero(t, t->length)) return nullptr;
  return t;
}

}  // namespace

Result<const void*> find_acpi_table(uint64_t rsdp_address, const char (&signature)[5]) {
  if (rsdp_address == 0 || rsdp_address + sizeof(Rsdp) > kReachable)
    return Error(Errc::kInvalidArgument, "acpi: no RSDP from the loader");
  const auto* rsdp = reinterpret_cast<const Rsdp*>(rsdp_address);
  if (std::memcmp(rsdp->signature, "RSD PTR ", 8) != 0 || !sums_to_zero(rsdp, 20))
    return Error(Errc::kInvalidArgument, "acpi: bad RSDP");
  // The XSDT (64-bit entries) when there is one, else the RSDT.
  const bool extended = rsdp->revision >= 2 && rsdp->xsdt != 0;
  const TableHeader* root = table_at(extended ? rsdp->xsdt : rsdp->rsdt);
  if (root == nullptr) return Error(Errc::kInvalidArgument, "acpi: bad root table");
  const std::size_t entry_bytes = extended ? 8 : 4;
  const std::size_t entries = (root->length - sizeof(TableHeader)) / entry_bytes;
  const auto* entry = reinterpret_cast<const uint8_t*>(root + 1);
  for (std::size_t i = 0; i < entries; ++i) {
    uint64_t address = 0;
    std::memcpy(&address, entry + i * entry_bytes, entry_bytes);
    const TableHeader* t = table_at(address);
    if (t != nullptr && std::memcmp(t->signature, signature, 4) == 0) return static_cast<const void*>(t);
  }
  return static_cast<const void*>(nullptr);
}

Status read_madt(uint64_t rsdp_address, CpuList& out) {
  Result<const void*> found = find_acpi_table(rsdp_address, "APIC");
  if (!found) return found.error();
  const auto* madt = static_cast<const Madt*>(*found);
  if (madt != nullptr && madt->header.length < sizeof(Madt)) madt = nullptr;
  if (madt == nullptr) return Error(Errc::kInvalidArgument, "acpi: no MADT");
  out.local_apic = madt->local_apic;
  out.count = 0;
  const auto* p = reinterpret_cast<const uint8_t*>(madt + 1);
  const auto* end = reinterpret_cast<const uint8_t*>(madt) + madt->header.length;
  while (p + 2 <= end) {
    const uint8_t type = p[0], length = p[1];
    if (length < 2 || p + length > end) return Error(Errc::kInvalidArgument, "acpi: malformed MADT entry");
    uint32_t flags = 0, id = 0;
    bool cpu = false;
    if (type == 0 && length >= 8) {  // processor local APIC
      id = p[3];
      std::memcpy(&flags, p + 4, 4);
      cpu = true;
    } else if (type == 9 && length >= 16) {  // processor local x2APIC
      std::memcpy(&id, p + 4, 4);
      std::memcpy(&flags, p + 8, 4);
      cpu = true;
    } else if (type == 5 && length >= 12) {  // local APIC address override
      std::memcpy(&out.local_apic, p + 4, 8);
    }
    if (cpu && (flags & 3) != 0) {  // enabled, or online-capable
      if (out.count == CpuList::kMaxCpus) return Error(Errc::kInvalidArgument, "acpi: too many CPUs");
      out.apic_ids[out.count++] = id;
    }
    p += length;
  }
  if (out.count == 0) return Error(Errc::kInvalidArgument, "acpi: the MADT lists no CPU");
  return {};
}

}  // namespace ebb::native
