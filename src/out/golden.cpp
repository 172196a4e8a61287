#include "w64stub/out/golden.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "w64stub/core/disasm.hpp"

namespace w64stub {

Expected<std::vector<uint8_t>> parse_hex(std::string_view text, std::string_view file) {
  std::vector<uint8_t> out;
  int line = 1, column = 1;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < text.size();) {
    char c = text[i];
    if (c == '\n') { ++line; column = 1; ++i; continue; }
    if (c == ' ' || c == '\t' || c == '\r') { ++column; ++i; continue; }
    if (c == '#') { while (i < text.size() && text[i] != '\n') ++i; continue; }
    int hi = digit(c), lo = i + 1 < text.size() ? digit(text[i + 1]) : -1;
    if (hi < 0 || lo < 0)
      return Error::at({std::string(file), line, column}, fmt::format("expected two hex digits, found '{}'",
                                                                      text.substr(i, std::min<size_t>(2, text.size() - i))));
    out.push_back(static_cast<uint8_t>(hi * 16 + lo));
    i += 2;
    column += 2;
  }
  return out;
}

Expected<std::vector<uint8_t>> read_hex_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{fmt::format("{}: cannot open the reference (run tools/refgen/refgen)", path)};
  std::stringstream text;
  text << in.rdbuf();
  return parse_hex(text.str(), path);
}

namespace {

std::string disassemble(std::span<const uint8_t> bytes, uint64_t address, uint32_t* length) {
  auto d = decode_one(bytes, address);
  *length = d ? d->length : 1;
  return d ? d->text : "(undecodable)";
}

}  // namespace

Comparison compare_text(const std::vector<uint8_t>& expected, const Image& image) {
  const std::vector<uint8_t>& emitted = image.text.bytes;
  Comparison result;
  result.equal = expected == emitted;
  if (result.equal) return result;

  std::string& out = result.diff;
  out += fmt::format("{}: {} bytes expected, {} emitted\n", image.stub, expected.size(), emitted.size());
  out += fmt::format("{:>6}  {:<30} {:<30} {}\n", "offset", "expected", "emitted", "source");
  for (const InstrInfo& instr : image.instrs) {
    uint32_t off = instr.offset;
    std::span<const uint8_t> mine(emitted.data() + off, instr.length);
    if (off >= expected.size()) {
      out += fmt::format("{:04x}    {:<30} {:<30} line {}\n", off, "(missing)", fmt::format("{:02x}", fmt::join(mine, " ")), instr.loc.line);
      continue;
    }
    uint32_t their_len = 0;
    std::string theirs_text = disassemble({expected.data() + off, expected.size() - off},
                                          image.text.address + off, &their_len);
    their_len = std::min<uint32_t>(their_len, static_cast<uint32_t>(expected.size() - off));
    std::span<const uint8_t> theirs(expected.data() + off, their_len);
    if (std::equal(mine.begin(), mine.end(), theirs.begin(), theirs.end())) continue;
    uint32_t my_len = 0;
    std::string mine_text = disassemble(mine, image.text.address + off, &my_len);
    out += fmt::format("{:04x}    {:<30} {:<30} line {}: {}\n        {:<30} {:<30}\n", off, fmt::format("{:02x}", fmt::join(theirs, " ")),
                       fmt::format("{:02x}", fmt::join(mine, " ")), instr.loc.line, image.source_line(instr), theirs_text, mine_text);
    if (their_len != instr.length) {
      out += "        (instruction lengths differ: later offsets no longer line up)\n";
      break;
    }
  }
  // Bytes after the code (rip model data, or a longer reference).
  size_t tail = image.code_size;
  size_t end = std::max(expected.size(), emitted.size());
  for (size_t off = tail; off < end; off += 16) {
    auto slice = [&](const std::vector<uint8_t>& v) {
      return off < v.size() ? std::span<const uint8_t>(v.data() + off, std::min<size_t>(16, v.size() - off))
                            : std::span<const uint8_t>();
    };
    auto a = slice(expected), b = slice(emitted);
    if (!std::equal(a.begin(), a.end(), b.begin(), b.end()))
      out += fmt::format("{:04x}    data expected {}\n        data emitted  {}\n", off, fmt::format("{:02x}", fmt::join(a, " ")), fmt::format("{:02x}", fmt::join(b, " ")));
  }
  return result;
}

}  // namespace w64stub
