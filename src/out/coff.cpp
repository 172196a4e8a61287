// write_object: an Image as a COFF AMD64 object (see coff.hpp for the conventions, which are GNU as's).
#include "w64stub/out/coff.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>

#include "w64stub/win/unwind.hpp"

namespace w64stub {

namespace {

// IMAGE_FILE_MACHINE_AMD64 and the relocation types (PE/COFF specification; 0x11 is binutils' pe-x86-64
// R_X86_64_32S, which GNU as writes for a sign-extended 32-bit absolute field).
constexpr uint16_t kMachineAmd64 = 0x8664;
constexpr uint16_t kAddr64 = 0x1, kAddr32 = 0x2, kAddr32Nb = 0x3, kRel32 = 0x4, kGnuAddr32S = 0x11;
// Section characteristics as GNU as writes them: code or data, alignment, access.
constexpr uint32_t kTextFlags = 0x60500020;    // CNT_CODE | ALIGN_16BYTES | MEM_EXECUTE | MEM_READ
constexpr uint32_t kDataFlags = 0xC0500040;    // CNT_INITIALIZED_DATA | ALIGN_16BYTES | MEM_READ | MEM_WRITE
constexpr uint32_t kUnwindFlags = 0x40300040;  // CNT_INITIALIZED_DATA | ALIGN_4BYTES | MEM_READ
constexpr uint8_t kExternal = 2, kStatic = 3;  // storage classes
constexpr uint16_t kFunction = 0x20;            // symbol type: IMAGE_SYM_DTYPE_FUNCTION << 4
constexpr size_t kFileHeader = 20, kSectionHeader = 40, kRelocationEntry = 10;
constexpr size_t kMaxRelocations = 0xFFFF;     // NumberOfRelocations is 16 bits

struct Reloc {
  uint32_t offset = 0;
  uint32_t symbol = 0;  // symbol table index
  uint16_t type = 0;
};

struct OutSection {
  std::string name;
  uint32_t flags = 0;
  std::vector<uint8_t> bytes;
  std::vector<Reloc> relocs;
  uint32_t symbol = 0;  // its section symbol's index
};

struct OutSymbol {
  std::string name;
  uint32_t value = 0;
  int16_t section = 0;  // 1-based; 0 undefined
  uint8_t storage = kExternal;
  const OutSection* aux = nullptr;  // a section symbol: its section definition record follows
  uint16_t type = 0;                // kFunction for code, as compilers mark theirs
};

bool file_local(std::string_view name) { return name.ends_with("<>"); }

// [address, address + size) lies in [base, base + length), without overflow on hostile values (image files).
bool within(uint64_t address, uint64_t size, uint64_t base, uint64_t length) {
  return address >= base && address - base <= length && size <= length - (address - base);
}

void put16(std::vector<uint8_t>& out, uint16_t v) { out.insert(out.end(), {uint8_t(v), uint8_t(v >> 8)}); }
void put32(std::vector<uint8_t>& out, uint32_t v) {
  for (int k = 0; k < 4; ++k) out.push_back(static_cast<uint8_t>(v >> (8 * k)));
}

std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
  std::string out;
  for (size_t at = 0;;) {
    const size_t next = s.find(from, at);
    out += s.substr(at, next - at);
    if (next == std::string_view::npos) return out;
    out += to;
    at = next + from.size();
  }
}

// A data symbol's alignment in .data: natural for its size, as a compiler's, at most 16 (an XMM load's).
uint64_t data_alignment(uint64_t size) {
  uint64_t align = 1;
  while (align < size && align < 16) align *= 2;
  return align;
}

class ObjectWriter {
 public:
  ObjectWriter(const Image& image, const ObjectOptions& options) : image_(image), options_(options) {}
  Expected<ObjectFile> run();

 private:
  Status add_sections();
  Status add_symbols();
  Expected<uint32_t> undefined_symbol(const Symbol& s);
  Status add_symbol(const Symbol& s, const std::string& linkable, int16_t section, uint32_t value, uint8_t storage,
                    uint16_t type = 0);
  Status relocate_text();
  Status relocate(const Relocation& r);
  void add_unwind();
  std::vector<uint8_t> serialize() const;
  Error refuse(std::string why) const { return Error{fmt::format("{}: {}", image_.stub, why)}; }
  // A field's error: at its instruction's source line when the Image knows it.
  Error refuse_field(const Relocation& r, std::string why) const {
    for (const InstrInfo& in : image_.instrs)
      if (in.offset <= r.offset && r.offset < in.offset + in.length && in.loc.line > 0)
        return Error{fmt::format("{}: +{:#x}: {}", in.loc.str(), r.offset, why)};
    return refuse(fmt::format("+{:#x}: {}", r.offset, why));
  }

  const Image& image_;
  const ObjectOptions& options_;
  std::vector<OutSection> sections_;  // .text, then .data, .xdata, .pdata when they have bytes
  std::vector<OutSymbol> symbols_;
  struct Linkable {
    std::string from;  // the Image symbol it came from
    uint32_t index = 0;
    bool import = false;
  };
  std::map<std::string, uint32_t> by_name_;                   // Image symbol name -> symbol table index
  std::map<std::string_view, const Symbol*> image_symbols_;  // Image symbol name -> the symbol
  std::map<std::string, Linkable> linkable_;                  // linkable name -> where it came from
  std::map<std::string, uint64_t> data_offset_;    // data symbol -> its offset in .data
  std::vector<std::string> notes_;
};

Status ObjectWriter::add_sections() {
  if (image_.code_size > image_.text.bytes.size()) return refuse("the code is larger than the text section");
  sections_.push_back({".text", kTextFlags, {image_.text.bytes.begin(), image_.text.bytes.begin() + image_.code_size}, {}, 0});
  std::vector<const Symbol*> data;
  for (const Symbol& s : image_.symbols)
    if (s.kind == SymbolKind::Data) data.push_back(&s);
  std::sort(data.begin(), data.end(), [](const Symbol* a, const Symbol* b) { return a->address < b->address; });
  OutSection out{".data", kDataFlags, {}, {}, 0};
  for (const Symbol* s : data) {
    const bool in_data = within(s->address, s->size, image_.data.address, image_.data.bytes.size());
    const Section& from = in_data ? image_.data : image_.text;
    if (!within(s->address, s->size, from.address, from.bytes.size()))
      return refuse(fmt::format("{}: its {} bytes at {:#x} lie outside the image's sections", s->name, s->size, s->address));
    const uint64_t align = data_alignment(s->size);
    out.bytes.resize((out.bytes.size() + align - 1) / align * align, 0);
    data_offset_[s->name] = out.bytes.size();
    const auto first = from.bytes.begin() + static_cast<ptrdiff_t>(s->address - from.address);
    out.bytes.insert(out.bytes.end(), first, first + s->size);
  }
  if (!data.empty()) sections_.push_back(std::move(out));
  return Ok{};
}

Status ObjectWriter::add_symbol(const Symbol& s, const std::string& linkable, int16_t section, uint32_t value, uint8_t storage,
                                uint16_t type) {
  if (linkable.empty() || linkable.find('\0') != std::string::npos)
    return refuse(fmt::format("{}: \"{}\" cannot be a COFF symbol name", s.name, linkable));
  const bool import = s.kind == SymbolKind::Import;
  auto [at, fresh] = linkable_.emplace(linkable, Linkable{s.name, static_cast<uint32_t>(symbols_.size()), import});
  if (!fresh && !(import && at->second.import))  // imports of one function share their __imp_ symbol
    return refuse(fmt::format("{} and {} both become the linkable name {}", at->second.from, s.name, linkable));
  by_name_[s.name] = at->second.index;
  if (fresh) symbols_.push_back({linkable, value, section, storage, nullptr, type});
  return Ok{};
}

// Section symbols first (relocations to what this object defines are against them), then the functions and
// data; what the object refers to and does not define follows as the fields name it.
Status ObjectWriter::add_symbols() {
  for (size_t k = 0; k < sections_.size(); ++k) {
    sections_[k].symbol = static_cast<uint32_t>(symbols_.size());
    symbols_.push_back({sections_[k].name, 0, static_cast<int16_t>(k + 1), kStatic, &sections_[k]});
  }
  for (const Symbol& s : image_.symbols) {
    image_symbols_[s.name] = &s;
    if (s.kind != SymbolKind::Code && s.kind != SymbolKind::Data) continue;  // undefined: made when referred to
    const uint8_t storage = file_local(s.name) ? kStatic : kExternal;
    const std::string linkable = object_symbol_name(s.name, options_);
    if (s.kind == SymbolKind::Code && !within(s.address, s.size, image_.text.address, image_.code_size))
      return refuse(fmt::format("{}: the function lies outside the code", s.name));
    const Status added = s.kind == SymbolKind::Code
                             ? add_symbol(s, linkable, 1, static_cast<uint32_t>(s.address - image_.text.address), storage, kFunction)
                             : add_symbol(s, linkable, 2, static_cast<uint32_t>(data_offset_.at(s.name)), storage);
    if (!added) return added;
  }
  return Ok{};
}

// An import or external a field refers to: made undefined in the symbol table on first use (as GNU as, no
// symbol for one nothing refers to).
Expected<uint32_t> ObjectWriter::undefined_symbol(const Symbol& s) {
  if (auto known = by_name_.find(s.name); known != by_name_.end()) return known->second;
  const std::string linkable = s.kind == SymbolKind::Import ? "__imp_" + s.function : object_symbol_name(s.name, options_);
  if (auto added = add_symbol(s, linkable, 0, 0, kExternal); !added) return added.error();
  return by_name_.at(s.name);
}

// One of the Image's fields: its relocation in .text (or, RIP-relative within .text, its value in place).
Status ObjectWriter::relocate(const Relocation& r) {
  const auto found = image_symbols_.find(r.symbol);
  const Symbol* target = found == image_symbols_.end() ? nullptr : found->second;
  if (!target) return refuse_field(r, fmt::format("a relocation to {}, which the image does not define", r.symbol));
  const bool undefined = target->kind == SymbolKind::Import || target->kind == SymbolKind::External;
  const Expected<uint32_t> index = undefined ? undefined_symbol(*target) : Expected<uint32_t>(by_name_.at(r.symbol));
  if (!index) return index.error();
  const uint32_t width = r.kind == RelocKind::Abs64 ? 8 : 4;
  if (uint64_t{r.offset} + width > image_.code_size)
    return refuse_field(r, fmt::format("a relocation outside the code ({} bytes)", image_.code_size));
  const bool rel = r.kind == RelocKind::Rel32;
  if (rel && (r.instr_end < r.offset + 4 || r.instr_end > image_.code_size))
    return refuse_field(r, fmt::format("a RIP-relative field whose instruction ends at +{:#x}", r.instr_end));
  const int64_t after_field = rel ? static_cast<int64_t>(r.instr_end) - (r.offset + 4) : 0;
  int64_t field = r.addend - after_field;
  uint32_t symbol = *index;
  if (target->kind == SymbolKind::Code) {
    const auto offset = static_cast<int64_t>(target->address - image_.text.address);
    if (rel) field = offset + r.addend - static_cast<int64_t>(r.instr_end);  // resolved in place
    else field += offset, symbol = sections_[0].symbol;
  } else if (target->kind == SymbolKind::Data) {
    field += static_cast<int64_t>(data_offset_.at(target->name));
    symbol = sections_[1].symbol;
  }
  const bool fits = width == 8 || (r.kind == RelocKind::Abs32 ? field >= INT32_MIN && field <= UINT32_MAX
                                                              : field >= INT32_MIN && field <= INT32_MAX);
  if (!fits) return refuse_field(r, fmt::format("{}{:+#x} does not fit the 32-bit field", r.symbol, r.addend));
  std::memcpy(sections_[0].bytes.data() + r.offset, &field, width);  // little-endian host and target
  if (rel && target->kind == SymbolKind::Code) return Ok{};
  const uint16_t type = r.kind == RelocKind::Abs64 ? kAddr64 : r.kind == RelocKind::Abs32 ? kAddr32
                        : r.kind == RelocKind::Abs32S ? kGnuAddr32S : kRel32;
  sections_[0].relocs.push_back({r.offset, symbol, type});
  return Ok{};
}

Status ObjectWriter::relocate_text() {
  std::vector<const Relocation*> ordered;
  for (const Relocation& r : image_.relocations) ordered.push_back(&r);
  std::sort(ordered.begin(), ordered.end(), [](const Relocation* a, const Relocation* b) { return a->offset < b->offset; });
  for (const Relocation* r : ordered)
    if (auto st = relocate(*r); !st) return st;
  return Ok{};
}

// .xdata and .pdata: a RUNTIME_FUNCTION (begin, end, UNWIND_INFO, each an ADDR32NB) per framed function.
void ObjectWriter::add_unwind() {
  OutSection xdata{".xdata", kUnwindFlags, {}, {}, 0}, pdata{".pdata", kUnwindFlags, {}, {}, 0};
  std::vector<const Symbol*> functions;
  for (const Symbol& s : image_.symbols)
    if (s.kind == SymbolKind::Code) functions.push_back(&s);
  std::sort(functions.begin(), functions.end(), [](const Symbol* a, const Symbol* b) { return a->address < b->address; });
  const auto xdata_section = static_cast<uint32_t>(sections_.size());
  std::vector<Reloc> entries;  // against sections by index until their symbols exist (run)
  for (const Symbol* f : functions) {
    auto info = derive_unwind(image_, *f);
    if (!info) {
      notes_.push_back(fmt::format("no unwind data: {}", info.error().message));
      continue;
    }
    if (info->codes.empty()) continue;  // a leaf: the unwinder needs no entry
    const auto begin = static_cast<uint32_t>(f->address - image_.text.address);
    const uint32_t fields[3] = {begin, begin + f->size, static_cast<uint32_t>(xdata.bytes.size())};
    for (int k = 0; k < 3; ++k) {
      entries.push_back({static_cast<uint32_t>(pdata.bytes.size()), k == 2 ? xdata_section : 0, kAddr32Nb});
      put32(pdata.bytes, fields[k]);
    }
    const std::vector<uint8_t> encoded = info->encode();
    xdata.bytes.insert(xdata.bytes.end(), encoded.begin(), encoded.end());
  }
  if (pdata.bytes.empty()) return;
  pdata.relocs = std::move(entries);
  sections_.push_back(std::move(xdata));
  sections_.push_back(std::move(pdata));
}

std::vector<uint8_t> ObjectWriter::serialize() const {
  std::vector<uint8_t> out;
  size_t at = kFileHeader + kSectionHeader * sections_.size();
  std::vector<std::pair<size_t, size_t>> placed;  // (raw data, relocations) file offsets
  for (const OutSection& s : sections_) {
    placed.emplace_back(at, s.relocs.empty() ? 0 : at + s.bytes.size());
    at += s.bytes.size() + kRelocationEntry * s.relocs.size();
  }
  size_t records = 0;
  for (const OutSymbol& s : symbols_) records += s.aux ? 2 : 1;
  put16(out, kMachineAmd64);
  put16(out, static_cast<uint16_t>(sections_.size()));
  put32(out, 0);  // no timestamp: the same Image gives the same bytes
  put32(out, static_cast<uint32_t>(at));
  put32(out, static_cast<uint32_t>(records));
  put16(out, 0);  // no optional header
  put16(out, 0x4);  // IMAGE_FILE_LINE_NUMS_STRIPPED, as GNU as
  for (size_t k = 0; k < sections_.size(); ++k) {
    const OutSection& s = sections_[k];
    char name[8] = {};
    std::memcpy(name, s.name.data(), std::min<size_t>(8, s.name.size()));
    out.insert(out.end(), name, name + 8);
    put32(out, 0), put32(out, 0);  // VirtualSize, VirtualAddress: 0 in objects
    put32(out, static_cast<uint32_t>(s.bytes.size()));
    put32(out, s.bytes.empty() ? 0 : static_cast<uint32_t>(placed[k].first));
    put32(out, static_cast<uint32_t>(placed[k].second));
    put32(out, 0);
    put16(out, static_cast<uint16_t>(s.relocs.size())), put16(out, 0);
    put32(out, s.flags);
  }
  // The symbol table index of each entry counts the auxiliary records before it.
  std::vector<uint32_t> index;
  for (uint32_t k = 0, i = 0; k < symbols_.size(); i += symbols_[k].aux ? 2 : 1, ++k) index.push_back(i);
  for (const OutSection& s : sections_) {
    out.insert(out.end(), s.bytes.begin(), s.bytes.end());
    for (const Reloc& r : s.relocs) put32(out, r.offset), put32(out, index[r.symbol]), put16(out, r.type);
  }
  std::string strings;
  for (const OutSymbol& s : symbols_) {
    if (s.name.size() <= 8) {
      char name[8] = {};
      std::memcpy(name, s.name.data(), s.name.size());
      out.insert(out.end(), name, name + 8);
    } else {
      put32(out, 0), put32(out, static_cast<uint32_t>(4 + strings.size()));
      strings += s.name + '\0';
    }
    put32(out, s.value);
    put16(out, static_cast<uint16_t>(s.section)), put16(out, s.type);
    out.push_back(s.storage), out.push_back(s.aux ? 1 : 0);
    if (!s.aux) continue;
    put32(out, static_cast<uint32_t>(s.aux->bytes.size()));
    put16(out, static_cast<uint16_t>(s.aux->relocs.size()));
    out.insert(out.end(), 12, 0);  // line numbers, checksum, number, selection, unused
  }
  put32(out, static_cast<uint32_t>(4 + strings.size()));
  out.insert(out.end(), strings.begin(), strings.end());
  return out;
}

Expected<ObjectFile> ObjectWriter::run() {
  if (auto st = add_sections(); !st) return st.error();
  add_unwind();
  if (auto st = add_symbols(); !st) return st.error();
  if (sections_.back().name == ".pdata")  // its relocations were made before the symbols: section indexes
    for (Reloc& r : sections_.back().relocs) r.symbol = sections_[r.symbol].symbol;
  if (auto st = relocate_text(); !st) return st.error();
  for (const OutSection& s : sections_)
    if (s.relocs.size() > kMaxRelocations)
      return refuse(fmt::format("{} relocations in {}; a COFF section counts at most {}", s.relocs.size(), s.name, kMaxRelocations));
  return ObjectFile{serialize(), std::move(notes_)};
}

}  // namespace

Expected<ObjectNames> parse_object_names(std::string_view text) {
  if (text == "go") return ObjectNames::Go;
  if (text == "c") return ObjectNames::C;
  return Error{fmt::format("unknown symbol naming '{}' (go or c)", text)};
}

std::string object_symbol_name(std::string_view symbol, const ObjectOptions& options) {
  std::string_view bare = file_local(symbol) ? symbol.substr(0, symbol.size() - 2) : symbol;
  std::string name(bare);
  if (bare.starts_with("\u00b7")) name = options.package.empty() ? std::string(bare.substr(2)) : options.package + name;
  name = replace_all(name, "\u00b7", ".");  // Go's middle dot
  name = replace_all(name, "\u2215", "/");  // Go's division slash, in import paths
  if (options.names == ObjectNames::C) std::replace_if(name.begin(), name.end(), [](char c) { return c == '.' || c == '/'; }, '_');
  return options.prefix + name;
}

Expected<ObjectFile> write_object(const Image& image, const ObjectOptions& options) {
  return ObjectWriter(image, options).run();
}

}  // namespace w64stub
