#include "w64stub/core/imagefile.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>

#include "w64stub/core/field.hpp"

namespace w64stub::imagefile {

namespace {

constexpr std::string_view kMagic = "w64stub-image 1";
constexpr size_t kBytesPerLine = 32;

std::string hex(uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, 16);
  return "0x" + std::string(buf, end);
}

void put_bytes(std::string& out, const std::vector<uint8_t>& bytes) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < bytes.size(); ++i) {
    out += digits[bytes[i] >> 4];
    out += digits[bytes[i] & 15];
    out += (i + 1) % kBytesPerLine == 0 || i + 1 == bytes.size() ? '\n' : ' ';
  }
}

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ') ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  return words;
}

// Numbers are decimal, or hexadecimal with 0x; addends may be negative.
template <class T>
bool number(std::string_view text, T& value) {
  bool negative = !text.empty() && text[0] == '-';
  if (negative) text.remove_prefix(1);
  int base = 10;
  if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) text.remove_prefix(2), base = 16;
  uint64_t magnitude = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), magnitude, base);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return false;
  if constexpr (std::is_signed_v<T>) {
    if (magnitude > static_cast<uint64_t>(INT64_MAX)) return false;
    value = static_cast<T>(negative ? -static_cast<int64_t>(magnitude) : static_cast<int64_t>(magnitude));
  } else {
    if (negative || magnitude > static_cast<uint64_t>(std::numeric_limits<T>::max())) return false;
    value = static_cast<T>(magnitude);
  }
  return true;
}

class Parser {
 public:
  Parser(std::string_view text, std::string_view name, File& file, std::string& error)
      : text_(text), name_(name), file_(file), error_(error) {}
  bool run();

 private:
  bool next_line(std::string_view& line);
  bool fail(const std::string& what) {
    error_ = std::string(name_) + ":" + std::to_string(line_) + ": " + what;
    return false;
  }
  bool bytes(size_t count, std::vector<uint8_t>& out);
  bool directive(const std::vector<std::string_view>& w);

  std::string_view text_, name_;
  File& file_;
  std::string& error_;
  size_t pos_ = 0;
  int line_ = 0;
};

bool Parser::next_line(std::string_view& line) {
  if (pos_ >= text_.size()) return false;
  size_t end = text_.find('\n', pos_);
  if (end == std::string_view::npos) end = text_.size();
  line = text_.substr(pos_, end - pos_);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  pos_ = end + 1;
  ++line_;
  return true;
}

bool Parser::bytes(size_t count, std::vector<uint8_t>& out) {
  out.clear();
  out.reserve(count);
  std::string_view line;
  while (out.size() < count) {
    if (!next_line(line)) return fail("the file ends inside a byte block");
    for (std::string_view word : split(line)) {
      uint8_t b = 0;
      auto [end, ec] = std::from_chars(word.data(), word.data() + word.size(), b, 16);
      if (word.size() != 2 || ec != std::errc{} || end != word.data() + 2)
        return fail("expected two hex digits per byte, got '" + std::string(word) + "'");
      if (out.size() == count) return fail("more bytes than the block's size");
      out.push_back(b);
    }
  }
  return true;
}

bool Parser::directive(const std::vector<std::string_view>& w) {
  const std::string_view key = w[0];
  auto arity = [&](size_t n) { return w.size() == n ? true : fail(std::string(key) + " takes " + std::to_string(n - 1) + " fields"); };
  auto bad = [&](std::string_view field) { return fail("bad " + std::string(field) + " in " + std::string(key)); };
  if (key == "model") {
    if (!arity(2)) return false;
    file_.model = std::string(w[1]);
    return w[1] == "go2012" || w[1] == "rip" || w[1] == "abs64" || bad("model");
  }
  if (key == "frame") {
    if (!arity(2)) return false;
    return (number(w[1], file_.declared_frame) && file_.declared_frame >= 0) || bad("frame size");
  }
  if (key == "data-align") {
    if (!arity(2)) return false;
    uint32_t& a = file_.data_align;
    return (number(w[1], a) && a != 0 && (a & (a - 1)) == 0 && a <= 4096) || bad("alignment");
  }
  if (key == "entry" || key == "code-size") {
    if (!arity(2)) return false;
    return number(w[1], key == "entry" ? file_.entry : file_.code_size) || bad("number");
  }
  if (key == "section") {
    if (!arity(4)) return false;
    Section s{std::string(w[1]), 0, {}};
    size_t size = 0;
    if (!number(w[2], s.address) || !number(w[3], size) || size > (size_t{1} << 30)) return bad("address or size");
    if (s.name != "text" && s.name != "data") return bad("section name");
    if (file_.section(s.name)) return fail("section " + s.name + " appears twice");
    if (!bytes(size, s.bytes)) return false;
    file_.sections.push_back(std::move(s));
    return true;
  }
  if (key == "code" || key == "data" || key == "import" || key == "external") {
    if (key == "import" ? w.size() != 6 && w.size() != 7 : !arity(4))
      return fail(std::string(key) + (key == "import" ? " takes 5 or 6 fields" : " takes 3 fields"));
    Symbol s{std::string(key), std::string(w[1]), 0, 0, {}, {}, {}};
    if (!number(w[2], s.address) || !number(w[3], s.size)) return bad("address or size");
    if (key == "import") s.dll = std::string(w[4]), s.function = std::string(w[5]);
    if (w.size() == 7) s.signature = std::string(w[6]);
    if (file_.find(s.name)) return fail("symbol " + s.name + " appears twice");
    file_.symbols.push_back(std::move(s));
    return true;
  }
  if (key == "reloc") {
    if (!arity(6)) return false;
    Reloc r{0, std::string(w[2]), std::string(w[3]), 0, 0};
    if (!number(w[1], r.offset) || !number(w[4], r.addend) || !number(w[5], r.instr_end)) return bad("number");
    if (r.kind != "abs32s" && r.kind != "abs32" && r.kind != "abs64" && r.kind != "rel32") return bad("kind");
    file_.relocs.push_back(std::move(r));
    return true;
  }
  if (key == "unwind") {
    size_t size = 0;
    if (!arity(2)) return false;
    if (!number(w[1], size) || size > (size_t{1} << 20)) return bad("size");
    return bytes(size, file_.unwind);
  }
  return fail("unknown directive '" + std::string(key) + "'");
}

bool Parser::run() {
  file_ = File{};
  std::string_view line;
  if (!next_line(line) || line != kMagic) return fail("not a w64stub image (the first line must be '" + std::string(kMagic) + "')");
  while (next_line(line)) {
    // A field holding one could not be written back: a line's end drops a carriage return.
    if (std::any_of(line.begin(), line.end(), [](unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }))
      return fail("a control character (no name or field holds one)");
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    // The stub's name is free text: the rest of the line.
    for (std::string_view key : {"stub ", "symbol "}) {
      if (!line.starts_with(key)) continue;
      (key == "stub " ? file_.stub : file_.symbol) = std::string(line.substr(key.size()));
      line = {};
    }
    auto words = split(line);
    if (words.empty()) continue;
    if (words[0] == "end") {
      const Section* text = file_.section("text");
      if (!text) return fail("no text section");
      if (file_.model.empty()) return fail("no model line");
      if (file_.entry >= text->bytes.size() || file_.code_size > text->bytes.size())
        return fail("entry or code-size lies outside text");
      for (const Reloc& r : file_.relocs) {
        if (!file_.find(r.symbol)) return fail("relocation against unknown symbol " + r.symbol);
        if (r.offset + (r.kind == "abs64" ? 8u : 4u) > text->bytes.size()) return fail("relocation outside text");
      }
      return true;
    }
    if (!directive(words)) return false;
  }
  return fail("missing 'end'");
}

}  // namespace

const Section* File::section(std::string_view wanted) const {
  for (const Section& s : sections)
    if (s.name == wanted) return &s;
  return nullptr;
}

const Symbol* File::find(std::string_view wanted) const {
  for (const Symbol& s : symbols)
    if (s.name == wanted) return &s;
  return nullptr;
}

std::string write(const File& file) {
  std::string out = std::string(kMagic) + "\n";
  out += "stub " + file.stub + "\nsymbol " + file.symbol + "\nmodel " + file.model + "\n";
  out += "entry " + hex(file.entry) + "\ncode-size " + hex(file.code_size) + "\n";
  if (file.declared_frame) out += "frame " + std::to_string(file.declared_frame) + "\n";
  if (file.data_align > 1) out += "data-align " + std::to_string(file.data_align) + "\n";
  for (const Section& s : file.sections) {
    out += "section " + s.name + " " + hex(s.address) + " " + std::to_string(s.bytes.size()) + "\n";
    put_bytes(out, s.bytes);
  }
  for (const Symbol& s : file.symbols) {
    out += s.kind + " " + s.name + " " + hex(s.address) + " " + std::to_string(s.size);
    if (s.kind == "import") out += " " + s.dll + " " + s.function + (s.signature.empty() ? "" : " " + s.signature);
    out += "\n";
  }
  for (const Reloc& r : file.relocs)
    out += "reloc " + hex(r.offset) + " " + r.kind + " " + r.symbol + " " + std::to_string(r.addend) + " " +
           hex(r.instr_end) + "\n";
  out += "unwind " + std::to_string(file.unwind.size()) + "\n";
  put_bytes(out, file.unwind);
  return out + "end\n";
}

bool parse(std::string_view text, std::string_view name, File& file, std::string& error) {
  return Parser(text, name, file, error).run();
}

bool apply(std::span<uint8_t> text, uint64_t text_address, const Reloc& reloc, uint64_t symbol_address) {
  RelocKind kind;
  if (reloc.kind == "abs32s") kind = RelocKind::Abs32S;
  else if (reloc.kind == "abs32") kind = RelocKind::Abs32;
  else if (reloc.kind == "abs64") kind = RelocKind::Abs64;
  else if (reloc.kind == "rel32") kind = RelocKind::Rel32;
  else return false;
  return patch_field(text, text_address, reloc.offset, kind, reloc.instr_end, symbol_address + static_cast<uint64_t>(reloc.addend));
}

std::vector<int> out32_parameters(std::string_view signature) {
  std::vector<int> out;
  signature = signature.substr(0, signature.find("->"));
  for (int index = 0; !signature.empty(); ++index) {
    const size_t comma = signature.find(',');
    const std::string_view param = signature.substr(0, comma);
    if (param == "out32" || param.ends_with(":out32")) out.push_back(index);
    signature = comma == std::string_view::npos ? std::string_view{} : signature.substr(comma + 1);
  }
  return out;
}

}  // namespace w64stub::imagefile
