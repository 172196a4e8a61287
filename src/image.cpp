#include "w64stub/image.hpp"

#include <fmt/format.h>

#include <cstring>

namespace w64stub {

std::string_view name(RelocKind kind) {
  switch (kind) {
    case RelocKind::Abs32S: return "abs32s";
    case RelocKind::Abs32: return "abs32";
    case RelocKind::Abs64: return "abs64";
    case RelocKind::Rel32: return "rel32";
  }
  return "?";
}

std::string_view name(SymbolKind kind) {
  switch (kind) {
    case SymbolKind::Code: return "code";
    case SymbolKind::Import: return "import";
    case SymbolKind::Data: return "data";
  }
  return "?";
}

const Symbol* Image::find_symbol(std::string_view wanted) const {
  for (const Symbol& s : symbols)
    if (s.name == wanted) return &s;
  return nullptr;
}

const InstrInfo* Image::instr_at(uint32_t offset) const {
  for (const InstrInfo& i : instrs)
    if (i.offset == offset) return &i;
  return nullptr;
}

const InstrInfo* Image::instr_ending_at(uint32_t offset) const {
  for (const InstrInfo& i : instrs)
    if (i.offset + i.length == offset) return &i;
  return nullptr;
}

std::string_view Image::source_line(const InstrInfo& instr) const {
  int line = instr.loc.line;
  if (line < 1 || static_cast<size_t>(line) > source_lines.size()) return {};
  return source_lines[static_cast<size_t>(line) - 1];
}

const Relocation* Image::relocation_in(uint32_t offset, uint32_t length) const {
  for (const Relocation& r : relocations)
    if (r.offset >= offset && r.offset < offset + length) return &r;
  return nullptr;
}

Status apply_relocation(std::span<uint8_t> text, uint64_t text_address, const Relocation& reloc,
                        uint64_t symbol_address) {
  const uint64_t target = symbol_address + static_cast<uint64_t>(reloc.addend);
  size_t width = reloc.kind == RelocKind::Abs64 ? 8 : 4;
  if (reloc.offset + width > text.size())
    return Error{fmt::format("relocation at {:#x} lies outside the code ({} bytes)", reloc.offset, text.size())};

  uint64_t value = target;
  bool fits = true;
  switch (reloc.kind) {
    case RelocKind::Abs32S: fits = target < (uint64_t{1} << 31) || target >= ~uint64_t{0} - (uint64_t{1} << 31) + 1; break;
    case RelocKind::Abs32: fits = target <= UINT32_MAX; break;
    case RelocKind::Abs64: break;
    case RelocKind::Rel32: {
      auto delta = static_cast<int64_t>(target - (text_address + reloc.instr_end));
      fits = delta >= INT32_MIN && delta <= INT32_MAX;
      value = static_cast<uint64_t>(delta);
      break;
    }
  }
  if (!fits)
    return Error{fmt::format("{} relocation at {:#x}: {} at {:#x} does not fit the field", name(reloc.kind),
                             reloc.offset, reloc.symbol, target)};
  std::memcpy(text.data() + reloc.offset, &value, width);  // little-endian host and target
  return Ok{};
}

}  // namespace w64stub
