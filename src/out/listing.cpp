#include "w64stub/out/listing.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <map>

#include "w64stub/core/disasm.hpp"
#include "w64stub/core/frame.hpp"

namespace w64stub {

std::string_view name(Format format) {
  switch (format) {
    case Format::Listing: return "listing";
    case Format::Hex: return "hex";
    case Format::C: return "c";
    case Format::Json: return "json";
    case Format::Bin: return "bin";
    case Format::Image: return "image";
  }
  return "?";
}

Expected<Format> parse_format(std::string_view text) {
  for (Format f : {Format::Listing, Format::Hex, Format::C, Format::Json, Format::Bin, Format::Image})
    if (name(f) == text) return f;
  return Error{fmt::format("unknown format '{}' (expected listing, hex, c, json, bin or image)", text)};
}

// Three characters a byte, written in place: a whole linked file's text is megabytes of them, and a
// formatting call per byte was a quarter of `w64stub asm FILE`.
// format_hex's spelling of `bytes`, at the end of `out`.
static void append_hex(std::string& out, std::span<const uint8_t> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  const size_t at = out.size();
  out.resize(at + 3 * bytes.size(), ' ');
  char* const p = out.data() + at;
  for (size_t i = 0; i < bytes.size(); ++i) {
    p[3 * i] = kDigits[bytes[i] >> 4];
    p[3 * i + 1] = kDigits[bytes[i] & 15];
    if (i % 16 == 15 || i + 1 == bytes.size()) p[3 * i + 2] = '\n';
  }
}

std::string format_hex(std::span<const uint8_t> bytes) {
  std::string out;
  append_hex(out, bytes);
  return out;
}

// A linked Image's text with a comment naming each function (and the data after the code): still a hex file.
// Written into room for all of it: a file of thousands of functions grew its text by copying.
static std::string format_text_hex(const Image& image) {
  std::vector<const Symbol*> functions;
  size_t names = 0;
  for (const Symbol& s : image.symbols)
    if (s.kind == SymbolKind::Code) functions.push_back(&s), names += s.name.size() + 3;
  if (functions.size() < 2) return format_hex(image.text.bytes);
  std::string out;
  const std::span<const uint8_t> text = image.text.bytes;
  out.reserve(3 * text.size() + names + 8);
  for (const Symbol* f : functions) {
    out.append("# ").append(f->name).push_back('\n');
    append_hex(out, text.subspan(f->address - image.text.address, f->size));
  }
  if (text.size() > image.code_size) out += "# data\n", append_hex(out, text.subspan(image.code_size));
  return out;
}

std::string escape_text(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (c == '\n') out += "\\n";
    else if (c == 0) out += "\\0";
    else if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
    else out += fmt::format("\\x{:02x}", c);
  }
  return out;
}

namespace {

// Data symbols of a section, one block each.
void list_symbols(std::string& out, const Image& image, const Section& section) {
  for (const Symbol& s : image.symbols) {
    if (s.kind == SymbolKind::Code || s.address < section.address ||
        s.address + s.size > section.address + section.bytes.size())
      continue;
    std::span<const uint8_t> bytes(section.bytes.data() + (s.address - section.address), s.size);
    std::string what = s.kind == SymbolKind::Import ? fmt::format("import slot {}!{}", s.dll, s.function)
                                                    : fmt::format("{} bytes \"{}\"", s.size, escape_text({reinterpret_cast<const char*>(bytes.data()), bytes.size()}));
    out += fmt::format("{:016x}  {:<28} ; {}: {}\n", s.address, fmt::format("{:02x}", fmt::join(bytes.first(std::min<size_t>(s.size, 8)), " ")),
                       s.name, what);
  }
}

}  // namespace

// What the listing says of an instruction's origin: its source line, the linker's frame, or nothing.
std::string source_column(const Image& image, const InstrInfo& instr) {
  std::string src;
  switch (instr.origin) {
    case InstrOrigin::Program: src = fmt::format("{}: {}", instr.loc.line, image.source_line(instr)); break;
    case InstrOrigin::Linker: {  // its sub/add rsp, N: N is the frame of the function it is in
      auto d = decode_one({image.text.bytes.data() + instr.offset, instr.length}, image.text.address + instr.offset);
      uint32_t frame = 0;
      if (d && d->imm.present())
        std::memcpy(&frame, image.text.bytes.data() + instr.offset + d->imm.offset, std::min<size_t>(d->imm.size, 4));
      src = fmt::format("{}: (linker: ${} frame)", instr.loc.line, frame);
      break;
    }
    case InstrOrigin::Decoded: return "";
  }
  std::replace(src.begin(), src.end(), '\t', ' ');
  return " ; " + src;
}

std::string format_listing(const Image& image) {
  const Frame f = analyze_frame(image);
  std::string out = fmt::format("; {} ({}) model {}, policy {}\n", image.symbol, image.stub, name(image.model),
                                name(image.policy));
  out += fmt::format("; .text at {:#x}: {} bytes ({} of code)", image.text.address, image.text.bytes.size(),
                     image.code_size);
  if (!image.data.bytes.empty())
    out += fmt::format("; .data at {:#x}: {} bytes", image.data.address, image.data.bytes.size());
  out += fmt::format("\n; frame: declared {}, explicit {}, max depth {} with the return address; calls at RSP mod 16 =",
                     f.declared, f.explicit_adjust, f.max_depth());
  for (const CallSite& c : f.calls) out += fmt::format(" {}", c.residue);
  out += "\n";
  std::map<uint64_t, std::string_view> functions;  // a linked Image's: each named where it starts
  for (const Symbol& s : image.symbols)
    if (s.kind == SymbolKind::Code) functions.emplace(s.address, s.name);
  // Each instruction's relocations (an instruction may hold two: a displacement and an immediate), walked
  // in offset order beside the instructions.
  std::vector<const Relocation*> by_offset;
  for (const Relocation& r : image.relocations) by_offset.push_back(&r);
  std::stable_sort(by_offset.begin(), by_offset.end(), [](const Relocation* a, const Relocation* b) { return a->offset < b->offset; });
  size_t next = 0;
  for (const InstrInfo& instr : image.instrs) {
    if (auto start = functions.find(image.text.address + instr.offset); start != functions.end() && functions.size() > 1)
      out += fmt::format("; {}:\n", start->second);
    std::span<const uint8_t> bytes(image.text.bytes.data() + instr.offset, instr.length);
    auto decoded = decode_one(bytes, image.text.address + instr.offset);
    std::string text = decoded ? decoded->text : "(undecodable)";
    std::string reloc;
    while (next < by_offset.size() && by_offset[next]->offset < instr.offset) ++next;
    for (size_t k = next; k < by_offset.size() && by_offset[k]->offset < instr.offset + instr.length; ++k)
      reloc += fmt::format(" [{} {} @+{}]", name(by_offset[k]->kind), short_symbol_name(by_offset[k]->symbol),
                           by_offset[k]->offset - instr.offset);
    out += fmt::format("{:016x} {:04x}  {:<30} {:<36}{}{}\n", image.text.address + instr.offset, instr.offset,
                       fmt::format("{:02x}", fmt::join(bytes, " ")), text, source_column(image, instr), reloc);
  }
  if (image.text.bytes.size() > image.code_size) {
    out += fmt::format("; padding and data in .text\n");
    list_symbols(out, image, image.text);
  }
  if (!image.data.bytes.empty()) {
    out += fmt::format("; .data\n");
    list_symbols(out, image, image.data);
  }
  return out;
}

std::string format_c_array(const Image& image) {
  std::string ident;
  for (char c : short_symbol_name(image.stub)) ident += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  std::string out = fmt::format("/* {} model {} policy {}: .text at {:#x}, {} bytes */\n", image.symbol,
                                name(image.model), name(image.policy), image.text.address, image.text.bytes.size());
  out += fmt::format("static const unsigned char {}_{}_{}[{}] = {{\n", ident, name(image.model), name(image.policy),
                     image.text.bytes.size());
  for (size_t i = 0; i < image.text.bytes.size(); ++i)
    out += fmt::format("{}0x{:02x},{}", i % 12 == 0 ? "  " : " ", image.text.bytes[i],
                       (i % 12 == 11 || i + 1 == image.text.bytes.size()) ? "\n" : "");
  return out + "};\n";
}

std::string format_json(const Image& image) {
  using Json = nlohmann::ordered_json;
  auto hex = [](std::span<const uint8_t> b) { return fmt::format("{:02x}", fmt::join(b, "")); };
  Json symbols = Json::array(), relocations = Json::array(), instructions = Json::array(), calls = Json::array();
  for (const Symbol& s : image.symbols) {
    Json one = {{"name", s.name}, {"kind", name(s.kind)}, {"address", s.address}, {"size", s.size}};
    if (s.kind == SymbolKind::Import) one.update({{"dll", s.dll}, {"function", s.function}, {"signature", s.signature}});
    symbols.push_back(std::move(one));
  }
  for (const Relocation& r : image.relocations)
    relocations.push_back({{"offset", r.offset}, {"kind", name(r.kind)}, {"symbol", r.symbol}, {"addend", r.addend}});
  for (const InstrInfo& in : image.instrs) {
    auto decoded = decode_one({image.text.bytes.data() + in.offset, in.length}, image.text.address + in.offset);
    Json one = {{"offset", in.offset}, {"length", in.length}, {"text", decoded ? decoded->text : ""}};
    if (in.origin == InstrOrigin::Program) one.update({{"line", in.loc.line}, {"source", image.source_line(in)}});
    if (in.origin == InstrOrigin::Linker) one["source"] = "(linker frame)";
    instructions.push_back(std::move(one));
  }
  const Frame f = analyze_frame(image);
  for (const CallSite& c : f.calls) calls.push_back({{"offset", c.offset}, {"depth", c.depth}, {"residue", c.residue}});
  Json j = {{"stub", image.stub}, {"symbol", image.symbol}, {"model", name(image.model)}, {"policy", name(image.policy)},
            {"text", {{"address", image.text.address}, {"code_size", image.code_size}, {"bytes", hex(image.text.bytes)}}},
            {"data", {{"address", image.data.address}, {"bytes", hex(image.data.bytes)}}},
            {"symbols", symbols}, {"relocations", relocations}, {"instructions", instructions},
            {"frame", {{"declared", f.declared}, {"explicit", f.explicit_adjust}, {"shadow", f.shadow},
                       {"stack_args", f.stack_args}, {"locals", f.locals}, {"max_depth", f.max_depth()},
                       {"balanced", f.balanced}, {"entry_residue", f.entry_residue}, {"calls", calls}}}};
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string render(const Image& image, Format format) {
  switch (format) {
    case Format::Listing: return format_listing(image);
    case Format::Hex: return format_text_hex(image);
    case Format::C: return format_c_array(image);
    case Format::Json: return format_json(image);
    case Format::Bin: return std::string(image.text.bytes.begin(), image.text.bytes.end());
    case Format::Image: return imagefile::write(to_file(image));
  }
  return {};
}

}  // namespace w64stub
