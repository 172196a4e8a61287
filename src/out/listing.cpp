#include "w64stub/out/listing.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "w64stub/core/disasm.hpp"

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

std::string format_hex(std::span<const uint8_t> bytes) {
  std::string out;
  for (size_t i = 0; i < bytes.size(); ++i)
    out += fmt::format("{:02x}{}", bytes[i], (i % 16 == 15 || i + 1 == bytes.size()) ? "\n" : " ");
  return out;
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) out += fmt::format("\\u{:04x}", c);  // UTF-8 (runtime·) passes through
        else out += static_cast<char>(c);
    }
  }
  return out + "\"";
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

std::string format_listing(const Image& image) {
  const Frame& f = image.frame;
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
  for (const InstrInfo& instr : image.instrs) {
    std::span<const uint8_t> bytes(image.text.bytes.data() + instr.offset, instr.length);
    auto decoded = decode_one(bytes, image.text.address + instr.offset);
    std::string text = decoded ? decoded->text : "(undecodable)";
    std::string reloc;
    if (const Relocation* r = image.relocation_in(instr.offset, instr.length))
      reloc = fmt::format(" [{} {} @+{}]", name(r->kind), short_symbol_name(r->symbol), r->offset - instr.offset);
    std::string src = instr.program_index < 0 ? fmt::format("{}: (linker: ${} frame)", instr.loc.line, image.frame.declared)
                                              : fmt::format("{}: {}", instr.loc.line, image.source_line(instr));
    for (char& c : src)
      if (c == '\t') c = ' ';
    out += fmt::format("{:016x} {:04x}  {:<30} {:<36} ; {}{}\n", image.text.address + instr.offset, instr.offset,
                       fmt::format("{:02x}", fmt::join(bytes, " ")), text, src, reloc);
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
  auto hex = [](std::span<const uint8_t> b) { return fmt::format("{:02x}", fmt::join(b, "")); };
  const Frame& f = image.frame;
  std::string out = "{\n";
  out += fmt::format("  \"stub\": {}, \"symbol\": {}, \"model\": \"{}\", \"policy\": \"{}\",\n", json_string(image.stub),
                     json_string(image.symbol), name(image.model), name(image.policy));
  out += fmt::format("  \"text\": {{\"address\": {}, \"code_size\": {}, \"bytes\": \"{}\"}},\n", image.text.address,
                     image.code_size, hex(image.text.bytes));
  out += fmt::format("  \"data\": {{\"address\": {}, \"bytes\": \"{}\"}},\n", image.data.address, hex(image.data.bytes));
  out += "  \"symbols\": [";
  for (size_t i = 0; i < image.symbols.size(); ++i) {
    const Symbol& s = image.symbols[i];
    out += fmt::format("{}\n    {{\"name\": {}, \"kind\": \"{}\", \"address\": {}, \"size\": {}", i ? "," : "",
                       json_string(s.name), name(s.kind), s.address, s.size);
    if (s.kind == SymbolKind::Import)
      out += fmt::format(", \"dll\": {}, \"function\": {}", json_string(s.dll), json_string(s.function));
    out += "}";
  }
  out += "\n  ],\n  \"relocations\": [";
  for (size_t i = 0; i < image.relocations.size(); ++i) {
    const Relocation& r = image.relocations[i];
    out += fmt::format("{}\n    {{\"offset\": {}, \"kind\": \"{}\", \"symbol\": {}, \"addend\": {}}}", i ? "," : "",
                       r.offset, name(r.kind), json_string(r.symbol), r.addend);
  }
  out += "\n  ],\n  \"instructions\": [";
  for (size_t i = 0; i < image.instrs.size(); ++i) {
    const InstrInfo& in = image.instrs[i];
    auto decoded = decode_one({image.text.bytes.data() + in.offset, in.length}, image.text.address + in.offset);
    out += fmt::format("{}\n    {{\"offset\": {}, \"length\": {}, \"text\": {}, \"line\": {}, \"source\": {}}}",
                       i ? "," : "", in.offset, in.length, json_string(decoded ? decoded->text : ""), in.loc.line,
                       json_string(in.program_index < 0 ? "(linker frame)" : image.source_line(in)));
  }
  out += "\n  ],\n";
  out += fmt::format("  \"frame\": {{\"declared\": {}, \"explicit\": {}, \"shadow\": {}, \"stack_args\": {}, "
                     "\"locals\": {}, \"max_depth\": {}, \"balanced\": {}, \"entry_residue\": {}, \"calls\": [",
                     f.declared, f.explicit_adjust, f.shadow, f.stack_args, f.locals, f.max_depth(),
                     f.balanced ? "true" : "false", f.entry_residue);
  for (size_t i = 0; i < f.calls.size(); ++i)
    out += fmt::format("{}{{\"line\": {}, \"depth\": {}, \"residue\": {}}}", i ? ", " : "", f.calls[i].loc.line,
                       f.calls[i].depth, f.calls[i].residue);
  out += "]}\n}\n";
  return out;
}

std::string render(const Image& image, Format format) {
  switch (format) {
    case Format::Listing: return format_listing(image);
    case Format::Hex: return format_hex(image.text.bytes);
    case Format::C: return format_c_array(image);
    case Format::Json: return format_json(image);
    case Format::Bin: return std::string(image.text.bytes.begin(), image.text.bytes.end());
    case Format::Image: return imagefile::write(to_file(image));
  }
  return {};
}

}  // namespace w64stub
