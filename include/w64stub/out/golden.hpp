// Golden: the bytes of testdata/ref (written by tools/refgen from GNU as, llvm-mc and nasm) against an
// emitted Image, with an aligned, disassembled diff when they differ.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "w64stub/core/error.hpp"
#include "w64stub/core/image.hpp"
#include "w64stub/core/layout.hpp"

namespace w64stub {

// Hex bytes separated by white space; '#' starts a comment. Errors name file:line:col.
Expected<std::vector<uint8_t>> parse_hex(std::string_view text, std::string_view file);
Expected<std::vector<uint8_t>> read_hex_file(const std::string& path);

struct Comparison {
  bool equal = false;
  std::string diff;  // empty when equal: offset, expected and emitted bytes and disassembly, source line
};
Comparison compare_text(const std::vector<uint8_t>& expected, const Image& image);

}  // namespace w64stub
