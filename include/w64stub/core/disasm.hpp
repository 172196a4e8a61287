// Disasm: Zydis decoding of one x86-64 instruction, with the positions of its displacement and immediate
// fields (emit finds relocation fields this way, never by knowing encodings itself).
#pragma once

#include <cstdint>
#include <optional>
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

// Where control goes after an instruction.
enum class Flow {
  Next,          // the following instruction
  Jump,          // only to `target` (or somewhere unknown: an indirect jump)
  Branch,        // to `target` or the following instruction
  Call,          // to `target` (or indirect), then back to the following instruction
  Return,
  Stop,          // int3, hlt, ud2: not past here
};

// What an instruction's explicit memory operand does with the memory it names.
enum class MemoryUse { None, Read, Written, AddressOnly };  // AddressOnly: lea, which only computes it

struct Decoded {
  uint32_t length = 0;
  std::string text;          // Intel syntax, addresses resolved against the runtime address given
  Field disp;
  Field imm;
  bool imm_signed = false;   // the immediate is sign-extended to the operand width
  uint32_t operand_width = 0;
  bool rip_relative = false;
  MemoryUse memory = MemoryUse::None;  // Written also for read-modify-write (inc [x])
  // Registers the instruction may write, explicitly or implicitly, by their full name: "rsi" for a write to
  // esi or si, "xmm7" for one to ymm7; flags are not registers here (see writes_df).
  std::vector<std::string> writes;
  bool writes_df = false;    // may change the direction flag (std, popfq, iretq)

  Flow flow = Flow::Next;
  std::optional<uint64_t> target;  // a direct jump's, branch's or call's destination
  // The stack: bytes the instruction moves RSP down (push: 8; add rsp, 16: -16; call and ret: 0, the callee's
  // matter), or rsp_untracked when it sets RSP some other way (mov rsp, rbp; leave; and rsp, -16).
  int64_t rsp_down = 0;
  bool rsp_untracked = false;
  std::optional<int64_t> rsp_store;  // a write to [rsp+disp] (no index): disp
};

// Decodes the instruction at the start of `bytes`, as if it stood at `address`.
Expected<Decoded> decode_one(std::span<const uint8_t> bytes, uint64_t address);

// Only where an instruction's displacement and immediate lie (emit locating relocation fields): no text,
// no register or flow analysis. Fields left absent when the bytes are no instruction.
struct FieldsOnly {
  uint32_t length = 0;
  Field disp, imm;
  bool imm_signed = false;
  uint32_t operand_width = 0;
};
FieldsOnly decode_fields(std::span<const uint8_t> bytes);

}  // namespace w64stub
