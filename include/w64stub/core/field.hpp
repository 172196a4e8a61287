// Relocation fields: how an address is held in the code, and the one place its value is computed. Standard
// C++ only: the image-file loader (tools/winrun, mingw-w64) uses it as the library does.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>

namespace w64stub {

// How a field holds an address. Abs32S: sign-extended 32 bits (mov rax, [abs32]; mov rdx, imm32 in 64-bit
// ops). Abs32: zero-extended 32 bits (mov edx, imm32). Abs64: 64-bit immediate. Rel32: RIP-relative
// displacement, relative to the end of the instruction (intra-image in the rip model).
enum class RelocKind { Abs32S, Abs32, Abs64, Rel32 };

// The value a field of `kind` holds for `target` (Rel32: relative to `next`, the address of the next
// instruction); false when it does not fit. Inline: templates patch millions of fields.
inline bool field_value(RelocKind kind, uint64_t target, uint64_t next, uint64_t& value) {
  constexpr uint64_t kHalf = uint64_t{1} << 31;
  switch (kind) {
    case RelocKind::Abs64: value = target; return true;
    case RelocKind::Abs32: value = target; return target <= UINT32_MAX;
    case RelocKind::Abs32S: value = target; return target + kHalf <= UINT32_MAX;  // sign-extends back to target
    case RelocKind::Rel32: value = target - next; return value + kHalf <= UINT32_MAX;
  }
  return false;
}

// Writes `target` into the field at `offset` of `text` (placed at text_address) as `kind` encodes it;
// false, writing nothing, when it does not fit or the field lies outside.
inline bool patch_field(std::span<uint8_t> text, uint64_t text_address, uint32_t offset, RelocKind kind, uint32_t instr_end,
                        uint64_t target) {
  const size_t width = kind == RelocKind::Abs64 ? 8 : 4;
  uint64_t value = 0;
  if (offset + width > text.size() || !field_value(kind, target, text_address + instr_end, value)) return false;
  std::memcpy(text.data() + offset, &value, width);  // little-endian host and target
  return true;
}

}  // namespace w64stub
