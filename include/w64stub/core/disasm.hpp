// Disasm: Zydis decoding of one x86-64 instruction, with the positions of its displacement and immediate
// fields (emit finds relocation fields this way, never by knowing encodings itself).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "w64stub/core/error.hpp"

namespace w64stub {

struct Field {
  int offset = -1;  // byte offset inside the instruction, -1 when absent
  int size = 0;     // bytes
  bool present() const { return offset >= 0; }
};

struct Decoded {
  uint32_t length = 0;
  std::string text;          // Intel syntax, addresses resolved against the runtime address given
  Field disp;
  Field imm;
  bool imm_signed = false;   // the immediate is sign-extended to the operand width
  uint32_t operand_width = 0;
  bool rip_relative = false;
  // Registers the instruction may write, explicitly or implicitly, by their full name: "rsi" for a write to
  // esi or si, "xmm7" for one to ymm7; flags are not registers here (see writes_df).
  std::vector<std::string> writes;
  bool writes_df = false;    // may change the direction flag (std, popfq, iretq)
};

// Decodes the instruction at the start of `bytes`, as if it stood at `address`.
Expected<Decoded> decode_one(std::span<const uint8_t> bytes, uint64_t address);

}  // namespace w64stub
