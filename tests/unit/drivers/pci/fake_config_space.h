#pragma once
// A PCI configuration space played by an array, for tests of drivers/pci
// and the drivers on it: functions added by address, BARs that answer the
// sizing protocol (all ones written: the size's mask read back), and a count
// of BARs sized with decoding left on.

#include <cstdint>
#include <cstring>
#include <map>

#include "drivers/pci/config_space.h"

namespace ebb::pci::testing {

// One function: 256 bytes of configuration space, and its BARs' sizes (a
// BAR written with all ones reads back the size mask, as hardware does).
struct FakeFunction {
  uint8_t bytes[256] = {};
  uint64_t bar_size[6] = {};
  uint32_t writes_with_decoding_on_during_sizing = 0;

  uint32_t dword(uint32_t offset) const {
    uint32_t v;
    std::memcpy(&v, bytes + offset, 4);
    return v;
  }
  void set_dword(uint32_t offset, uint32_t v) { std::memcpy(bytes + offset, &v, 4); }
  void set_word(uint32_t offset, uint16_t v) { std::memcpy(bytes + offset, &v, 2); }
};

inline uint32_t key(Address a) { return uint32_t{a.bus} << 8 | uint32_t{a.device} << 3 | a.function; }

// What BAR i reads after all ones were written to it: the size's mask with
// the type bits (the upper half of a 64-bit BAR: the mask's upper bits).
inline uint32_t size_mask(const FakeFunction& f, int i) {
  const uint32_t old = f.dword(kFirstBar + 4 * static_cast<uint32_t>(i));
  const bool upper_half = i > 0 && f.bar_size[i] == 0 && (f.dword(kFirstBar + 4 * static_cast<uint32_t>(i - 1)) & 7) == 4;
  if (upper_half) return static_cast<uint32_t>(~(f.bar_size[i - 1] - 1) >> 32);
  if (f.bar_size[i] == 0) return 0;  // not implemented
  const auto mask = static_cast<uint32_t>(~(f.bar_size[i] - 1));
  return (old & 1) != 0 ? (mask & ~3u) | 1 : (mask & ~0xfu) | (old & 0xf);
}

class FakeConfigSpace final : public ConfigSpace {
 public:
  FakeFunction& add(Address at, uint16_t vendor, uint16_t device, uint8_t class_code, uint8_t subclass,
                    uint8_t header_type = 0) {
    FakeFunction& f = functions_[key(at)];
    f.set_word(kVendorId, vendor);
    f.set_word(2, device);
    f.set_dword(kClassRevision, uint32_t{class_code} << 24 | uint32_t{subclass} << 16 | 1);
    f.bytes[kHeaderType] = header_type;
    f.set_word(kCommand, kCommandMemory | kCommandIo);
    return f;
  }
  FakeFunction& at(Address a) { return functions_.at(key(a)); }

  uint32_t size() const override { return 256; }
  uint32_t read32(Address a, uint32_t offset) override {
    auto it = functions_.find(key(a));
    return it == functions_.end() ? 0xffffffffu : it->second.dword(offset);
  }
  void write32(Address a, uint32_t offset, uint32_t value) override {
    auto it = functions_.find(key(a));
    if (it == functions_.end()) return;
    FakeFunction& f = it->second;
    if (offset >= kFirstBar && offset < kFirstBar + 24 && value == 0xffffffffu) {
      if ((f.dword(kCommand) & (kCommandIo | kCommandMemory)) != 0) ++f.writes_with_decoding_on_during_sizing;
      f.set_dword(offset, size_mask(f, static_cast<int>(offset - kFirstBar) / 4));
      return;
    }
    if (offset == kCommand) {  // Status, the upper half, is write-one-to-clear
      const uint32_t status = (f.dword(kCommand) >> 16) & ~(value >> 16);
      f.set_dword(offset, (status << 16) | (value & 0xffffu));
      return;
    }
    f.set_dword(offset, value);
  }

 private:
  std::map<uint32_t, FakeFunction> functions_;
};

}  // namespace ebb::pci::testing
