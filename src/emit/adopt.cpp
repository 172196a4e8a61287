#include "w64stub/emit/adopt.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "w64stub/core/disasm.hpp"
#include "w64stub/win/unwind.hpp"

namespace w64stub {

namespace {

// The instruction map of [0, size): decoded, each a Decoded origin.
Status decode_instructions(Image& image, uint32_t size) {
  for (uint32_t offset = 0; offset < size;) {
    auto d = decode_one({image.text.bytes.data() + offset, size - offset}, image.text.address + offset);
    if (!d) return Error{fmt::format("{}: +{:#x}: {}", image.stub, offset, d.error().message)};
    image.instrs.push_back(InstrInfo{offset, d->length, -1, {}, InstrOrigin::Decoded});
    offset += d->length;
  }
  return Ok{};
}

void finish(Image& image) {
  if (auto unwind = derive_unwind(image)) image.unwind = unwind->encode();
}

}  // namespace

Expected<Image> adopt(const ForeignCode& foreign) {
  Image image;
  image.stub = image.symbol = foreign.name;
  image.model = Model::Rip;
  image.text = Section{".text", foreign.address, foreign.code};
  image.code_size = static_cast<uint32_t>(foreign.code.size());
  std::vector<uint8_t>& text = image.text.bytes;
  while (text.size() % 8) text.push_back(0xCC);
  image.symbols.push_back(Symbol{foreign.name, SymbolKind::Code, foreign.address, image.code_size, {}, {}, {}});
  for (const Import& i : foreign.imports) {
    image.symbols.push_back(Symbol{i.symbol, SymbolKind::Import, foreign.address + text.size(), 8, i.dll, i.function, i.signature});
    text.resize(text.size() + 8, 0);
  }
  for (const DataSymbol& d : foreign.data) {
    while (text.size() % std::max<uint32_t>(d.align, 1)) text.push_back(0);
    image.symbols.push_back(Symbol{d.symbol, SymbolKind::Data, foreign.address + text.size(),
                                   static_cast<uint32_t>(d.bytes.size()), {}, {}, {}});
    text.insert(text.end(), d.bytes.begin(), d.bytes.end());
  }
  if (auto st = decode_instructions(image, image.code_size); !st) return st.error();
  for (const ForeignField& f : foreign.fields) {
    const InstrInfo* in = nullptr;
    for (const InstrInfo& i : image.instrs)
      if (f.offset >= i.offset && f.offset + 4 <= i.offset + i.length) in = &i;
    if (!in) return Error{fmt::format("{}: field at +{:#x} is not inside an instruction", foreign.name, f.offset)};
    const Symbol* target = image.find_symbol(f.symbol);
    if (!target || target->kind == SymbolKind::Code)
      return Error{fmt::format("{}: field at +{:#x} names {}, which is neither an import nor data", foreign.name, f.offset, f.symbol)};
    Relocation r{f.offset, RelocKind::Rel32, f.symbol, f.addend, in->offset + in->length};
    if (auto st = apply_relocation(text, image.text.address, r, target->address); !st) return st.error();
    image.relocations.push_back(std::move(r));
  }
  finish(image);
  return image;
}

Expected<Image> adopt(asmjit::CodeHolder& code, std::string name, const std::vector<AsmjitSlot>& slots) {
  if (asmjit::Error err = code.flatten()) return Error{fmt::format("asmjit flatten: {}", asmjit::DebugUtils::errorAsString(err))};
  if (asmjit::Error err = code.resolveUnresolvedLinks())
    return Error{fmt::format("asmjit links: {}", asmjit::DebugUtils::errorAsString(err))};
  const asmjit::CodeBuffer& buf = code.textSection()->buffer();
  Image image;
  image.stub = image.symbol = name;
  image.model = Model::Rip;
  image.text = Section{".text", code.baseAddress() == asmjit::Globals::kNoBaseAddress ? 0x140001000 : code.baseAddress(),
                       {buf.data(), buf.data() + buf.size()}};
  uint64_t code_end = buf.size();
  for (const AsmjitSlot& s : slots) {
    if (!code.isLabelBound(s.label)) return Error{fmt::format("{}: the label of slot {} is not bound", name, s.import.symbol)};
    code_end = std::min<uint64_t>(code_end, code.labelOffset(s.label));
  }
  image.code_size = static_cast<uint32_t>(code_end);
  image.symbols.push_back(Symbol{name, SymbolKind::Code, image.text.address, image.code_size, {}, {}, {}});
  for (const AsmjitSlot& s : slots) {
    const uint64_t offset = code.labelOffset(s.label);
    if (offset + 8 > buf.size()) return Error{fmt::format("{}: slot {} runs past the code buffer", name, s.import.symbol)};
    image.symbols.push_back(Symbol{s.import.symbol, SymbolKind::Import, image.text.address + offset, 8, s.import.dll,
                                   s.import.function, s.import.signature});
  }
  if (auto st = decode_instructions(image, image.code_size); !st) return st.error();
  finish(image);
  return image;
}

}  // namespace w64stub
