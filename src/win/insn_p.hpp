// Insn: one decoded instruction in brief, as the unwind derivation reads it (the mnemonic, the visible
// operands, whether any operand, implicit ones too, writes RSP), decoded by Zydis through a per-thread cache.
// Decoding is a pure function of the bytes, and a JIT's stubs repeat their instructions: the prolog, the
// calls, the epilog. A hit costs a hash and a copy; Zydis costs about a thousand instructions.
#pragma once

#include <Zydis/Zydis.h>

#include <cstdint>
#include <optional>
#include <span>

namespace w64stub::unwind_detail {

struct Insn {
  struct Op {
    ZydisOperandType type = ZYDIS_OPERAND_TYPE_UNUSED;
    ZydisRegister reg = ZYDIS_REGISTER_NONE;  // registers
    ZydisRegister base = ZYDIS_REGISTER_NONE, index = ZYDIS_REGISTER_NONE, segment = ZYDIS_REGISTER_NONE;  // memory
    uint64_t imm = 0;                          // immediates
    int64_t disp = 0;                          // memory

    bool operator==(const Op&) const = default;
  };
  // The matchers read the first two operands: push r, sub rsp, imm, mov [rsp+d], r, lea r, [rsp+d], ret imm.
  static constexpr uint8_t kKept = 2;
  ZydisMnemonic mnemonic = ZYDIS_MNEMONIC_INVALID;
  uint8_t visible = 0;  // visible operands, at most kKept of them in ops
  bool writes_rsp = false;
  Op ops[kKept];

  bool operator==(const Insn&) const = default;
  bool kept(int k) const { return k >= 0 && k < visible && k < kKept; }
  bool reg(int k, ZydisRegister r) const { return kept(k) && ops[k].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[k].reg == r; }
  bool is_reg(int k) const { return kept(k) && ops[k].type == ZYDIS_OPERAND_TYPE_REGISTER; }
  bool is_imm(int k) const { return kept(k) && ops[k].type == ZYDIS_OPERAND_TYPE_IMMEDIATE; }
  // [base + disp], no index, no FS/GS: the displacement.
  std::optional<int64_t> mem_on(int k, ZydisRegister on) const {
    if (!kept(k) || ops[k].type != ZYDIS_OPERAND_TYPE_MEMORY || ops[k].base != on ||
        ops[k].index != ZYDIS_REGISTER_NONE || ops[k].segment == ZYDIS_REGISTER_GS || ops[k].segment == ZYDIS_REGISTER_FS)
      return std::nullopt;
    return ops[k].disp;
  }
};

// The instruction `bytes` begin with (64-bit mode) into `out`; false when they begin with none.
bool decode_insn(std::span<const uint8_t> bytes, Insn& out);
// The same without the cache: what the cache must agree with.
std::optional<Insn> decode_insn_uncached(std::span<const uint8_t> bytes);

}  // namespace w64stub::unwind_detail
