// Golden: the bytes of testdata/ref (written by tools/refgen from GNU as, llvm-mc and nasm) against an
// emitted Image, with an aligned, disassembled diff when they differ.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "w64stub/catalog.hpp"
#include "w64stub/error.hpp"
#include "w64stub/image.hpp"
#include "w64stub/layout.hpp"

namespace w64stub {

// "<stub>.<variant>.<model>.<policy>", the stem of the .s/.asm/.hex files.
std::string reference_stem(std::string_view stub, Variant variant, Model model, Policy policy);

// Hex bytes separated by white space; '#' starts a comment. Errors name file:line:col.
Expected<std::vector<uint8_t>> parse_hex(std::string_view text, std::string_view file);
Expected<std::vector<uint8_t>> read_hex_file(const std::string& path);

struct Comparison {
  bool equal = false;
  std::string diff;  // empty when equal: offset, expected and emitted bytes and disassembly, source line
};
Comparison compare_text(const std::vector<uint8_t>& expected, const Image& image);

// One catalog combination against DIR/<stem>.hex. Refused: emit declines it and no reference exists
// (abs64 x faithful); any other disagreement between the two is a mismatch.
struct Verdict {
  enum Kind { Match, Mismatch, Refused } kind = Mismatch;
  std::string stem;
  std::string detail;  // the diff, or why it was refused or could not be compared
  size_t bytes = 0;
};
std::vector<Verdict> verify_stub(std::string_view stub, const std::string& ref_dir);

}  // namespace w64stub
