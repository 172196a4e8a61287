#include "w64stub/core/image.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

#include "w64stub/core/disasm.hpp"
#include "w64stub/core/imagefile.hpp"

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
    case SymbolKind::External: return "external";
  }
  return "?";
}

const Symbol* Image::find_symbol(std::string_view wanted) const {
  for (const Symbol& s : symbols)
    if (s.name == wanted) return &s;
  return nullptr;
}

// The instruction map is in offset order, each instruction after the last (emit writes it so, from_file
// decodes so): a binary search.
const InstrInfo* Image::instr_at(uint32_t offset) const {
  auto it = std::lower_bound(instrs.begin(), instrs.end(), offset,
                             [](const InstrInfo& i, uint32_t at) { return i.offset < at; });
  return it != instrs.end() && it->offset == offset ? &*it : nullptr;
}

const InstrInfo* Image::instr_ending_at(uint32_t offset) const {
  auto it = std::lower_bound(instrs.begin(), instrs.end(), offset,
                             [](const InstrInfo& i, uint32_t at) { return i.offset + i.length < at; });
  return it != instrs.end() && it->offset + it->length == offset ? &*it : nullptr;
}

std::string_view Image::source_line(const InstrInfo& instr) const {
  if (!source_file.empty() && instr.loc.file != source_file) return {};  // e.g. an #include
  int line = instr.loc.line - (first_line - 1);
  if (line < 1 || static_cast<size_t>(line) > source_lines.size()) return {};
  return source_lines[static_cast<size_t>(line) - 1];
}

uint32_t Image::entry_size() const {
  const Symbol* entry = find_symbol(symbol);
  return entry && entry->kind == SymbolKind::Code && entry->address == text.address ? entry->size : code_size;
}

uint64_t Image::placed_address(const Symbol& s, uint64_t text_address, uint64_t data_address) const {
  const bool in_data = !data.bytes.empty() && s.address >= data.address && s.address < data.address + data.bytes.size();
  return in_data ? s.address - data.address + data_address : s.address - text.address + text_address;
}

imagefile::File to_file(const Image& image) {
  imagefile::File f;
  f.stub = image.stub;
  f.symbol = image.symbol;
  f.model = std::string(name(image.model));
  f.code_size = image.code_size;
  f.declared_frame = image.declared_frame;
  f.data_align = image.data_align;
  f.unwind = image.unwind;
  f.sections.push_back({"text", image.text.address, image.text.bytes});
  if (!image.data.bytes.empty()) f.sections.push_back({"data", image.data.address, image.data.bytes});
  for (const Symbol& s : image.symbols)
    f.symbols.push_back({std::string(name(s.kind)), s.name, s.address, s.size, s.dll, s.function, s.signature});
  for (const Relocation& r : image.relocations)
    f.relocs.push_back({r.offset, std::string(name(r.kind)), r.symbol, r.addend, r.instr_end});
  return f;
}

Expected<Image> from_file(const imagefile::File& f) {
  Image image;
  image.stub = f.stub;
  image.symbol = f.symbol;
  auto model = parse_model(f.model);
  if (!model) return model.error();
  image.model = *model;
  image.code_size = f.code_size;
  image.declared_frame = f.declared_frame;
  image.data_align = f.data_align;
  image.unwind = f.unwind;
  if (f.entry != 0) return Error{fmt::format("{}: entry at +{:#x}; only entry 0 is supported", f.stub, f.entry)};
  for (const imagefile::Section& s : f.sections)
    (s.name == "text" ? image.text : image.data) = Section{"." + s.name, s.address, s.bytes};
  for (const imagefile::Symbol& s : f.symbols) {
    SymbolKind kind = s.kind == "code" ? SymbolKind::Code : s.kind == "import" ? SymbolKind::Import
                    : s.kind == "external" ? SymbolKind::External : SymbolKind::Data;
    image.symbols.push_back(Symbol{s.name, kind, s.address, s.size, s.dll, s.function, s.signature});
  }
  for (const imagefile::Reloc& r : f.relocs) {
    RelocKind kind = r.kind == "abs32s" ? RelocKind::Abs32S : r.kind == "abs32" ? RelocKind::Abs32
                   : r.kind == "abs64" ? RelocKind::Abs64 : RelocKind::Rel32;
    image.relocations.push_back(Relocation{r.offset, kind, r.symbol, r.addend, r.instr_end});
  }
  for (uint32_t offset = 0; offset < image.code_size;) {
    auto d = decode_one({image.text.bytes.data() + offset, image.code_size - offset}, image.text.address + offset);
    if (!d) return Error{fmt::format("{}: +{:#x}: {}", f.stub, offset, d.error().message)};
    image.instrs.push_back(InstrInfo{offset, d->length, -1, {}, InstrOrigin::Decoded});
    offset += d->length;
  }
  return image;
}

Expected<Image> read_image_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{fmt::format("{}: cannot open", path)};
  std::stringstream text;
  text << in.rdbuf();
  imagefile::File f;
  std::string error;
  if (!imagefile::parse(text.str(), path, f, error)) return Error{error};
  return from_file(f);
}

Status apply_relocation(std::span<uint8_t> text, uint64_t text_address, const Relocation& reloc,
                        uint64_t symbol_address) {
  if (patch_field(text, text_address, reloc.offset, reloc.kind, reloc.instr_end,
                  symbol_address + static_cast<uint64_t>(reloc.addend)))
    return Ok{};
  if (reloc.offset + (reloc.kind == RelocKind::Abs64 ? 8u : 4u) > text.size())
    return Error{fmt::format("relocation at {:#x} lies outside the code ({} bytes)", reloc.offset, text.size())};
  return Error{fmt::format("{} relocation at {:#x}: {} at {:#x} does not fit the field", name(reloc.kind), reloc.offset,
                           reloc.symbol, symbol_address + static_cast<uint64_t>(reloc.addend))};
}

}  // namespace w64stub
