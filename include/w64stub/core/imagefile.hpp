// Image files: an Image as text, for loaders outside this process (tools/winrun under Wine) and for
// `w64stub run/probe FILE.image`. Standard C++ only: the Windows loader compiles this same source with
// mingw-w64.
//
//   w64stub-image 1
//   stub badcallback                       # a name for reports
//   symbol runtime·badcallback             # the TEXT symbol
//   model go2012                           # go2012 | rip | abs64 (what the addresses mean)
//   entry 0x0                              # entry point, as an offset into text
//   code-size 0x5f                         # text bytes that are instructions (the rest: padding, slots, data)
//   frame 48                               # optional: the declared ($N) part of the frame, 0 when absent
//   data-align 8                           # optional: the data moves only by multiples of it (1 when absent)
//   section text 0x402000 96               # name, address, size; then the bytes as hex, 32 per line
//   48 83 ec 30 ...
//   section data 0x401000 136
//   ...
//   code runtime·badcallback 0x402000 95
//   import runtime·Sleep 0x401008 8 kernel32.dll Sleep [SIGNATURE]   # an 8-byte slot the loader fills
//   data runtime·badcallbacklen 0x401010 4
//   reloc 0x13 abs32s runtime·GetStdHandle 0 0x17  # field offset in text, kind, symbol, addend, instruction end
//   unwind 8                               # the function's UNWIND_INFO (entry to code-size), hex lines follow;
//   01 04 01 00 04 52 00 00               # 0 when the code has none that could describe it
//   end
//
// Every address is where the image was laid out; a loader that places a section elsewhere moves the symbols
// in it by the same amount and rewrites each relocation field (abs32s, abs32, abs64, rel32).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace w64stub::imagefile {

struct Section {
  std::string name;  // "text" or "data"
  uint64_t address = 0;
  std::vector<uint8_t> bytes;
};

struct Symbol {
  std::string kind;  // "code", "import", "data" or "external" (another TEXT symbol or file: address 0, bound when placed)
  std::string name;
  uint64_t address = 0;
  uint32_t size = 0;
  std::string dll, function;  // imports
  std::string signature;      // imports, optional: "name:type,...->type" (core/callconv.hpp); "" unknown
};

struct Reloc {
  uint32_t offset = 0;  // of the field, in text
  std::string kind;     // "abs32s", "abs32", "abs64", "rel32"
  std::string symbol;
  int64_t addend = 0;
  uint32_t instr_end = 0;
};

struct File {
  std::string stub, symbol, model;
  uint32_t entry = 0, code_size = 0;
  int32_t declared_frame = 0;  // Go's $N, the part of the frame the linker added (its sub/add are in the text)
  uint32_t data_align = 1;     // a power of two up to a page: the data's symbols are aligned to it (Image::data_align)
  std::vector<Section> sections;
  std::vector<Symbol> symbols;
  std::vector<Reloc> relocs;
  std::vector<uint8_t> unwind;

  const Section* section(std::string_view name) const;
  const Symbol* find(std::string_view name) const;
};

std::string write(const File& file);

// Parses what write() produces. On failure returns false and sets `error` to "NAME:LINE: what is wrong".
bool parse(std::string_view text, std::string_view name, File& file, std::string& error);

// Writes the relocation's field in `text` (placed at text_address) for its symbol placed at symbol_address.
// False, with nothing written, when the field lies outside text or the value does not fit it.
bool apply(std::span<uint8_t> text, uint64_t text_address, const Reloc& reloc, uint64_t symbol_address);

// The indices of a signature's out32 parameters (pointers to a DWORD the callee fills), for loaders that
// report them: "a:ptr,b:out32->bool" -> {1}.
std::vector<int> out32_parameters(std::string_view signature);

}  // namespace w64stub::imagefile
