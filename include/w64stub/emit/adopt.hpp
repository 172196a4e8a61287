// Adopt: code something else encoded - asmjit's Compiler (after finalize), an Xbyak buffer, bytes made by
// hand - as an Image, so it is listed, probed, run under Wine and given unwind data like emitted code. The
// instruction map comes from decoding; the layout is the rip model's (code, then the import slots and data).
#pragma once

#include <asmjit/core.h>

#include <cstdint>
#include <string>
#include <vector>

#include "w64stub/core/error.hpp"
#include "w64stub/core/image.hpp"
#include "w64stub/core/program.hpp"

namespace w64stub {

// A RIP-relative 32-bit field in the code that names an import slot or data symbol (as [rip + disp32]).
struct ForeignField {
  uint32_t offset = 0;  // of the field, in the code
  std::string symbol;
  int64_t addend = 0;
};

struct ForeignCode {
  std::string name;                   // for reports
  std::vector<uint8_t> code;          // the function, from its entry
  uint64_t address = 0x140001000;     // where its fields are computed for
  std::vector<Import> imports;        // 8-byte slots after the code, as the rip model lays them out
  std::vector<DataSymbol> data;
  std::vector<ForeignField> fields;   // what the code's RIP-relative fields name; each is rewritten to reach it
};

// Bytes plus what their RIP-relative fields name. A field outside the code, or naming no slot or data, is an error.
Expected<Image> adopt(const ForeignCode& code);

// asmjit code after finalize (Assembler, Builder or Compiler): the text section's bytes, with each import
// slot at the offset of its bound label (the code reaches them RIP-relative), the code ending at the first.
struct AsmjitSlot {
  Import import;
  asmjit::Label label;
};
Expected<Image> adopt(asmjit::CodeHolder& code, std::string name, const std::vector<AsmjitSlot>& slots);

}  // namespace w64stub
