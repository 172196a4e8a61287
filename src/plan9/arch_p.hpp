// The amd64 architecture as Go's assembler names it (after cmd/asm's arch/): registers, mnemonics with their
// size suffixes and operand forms, and the TEXT flags of textflag.h. Private to the plan9 stage.
#pragma once

#include <asmjit/x86.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "w64stub/core/program.hpp"

namespace w64stub::plan9 {

// A hash map searched by string_view without making a string: the lexer's names look up tables. The names
// are short (MOVQ, PCMPESTRI): FNV-1a, inline, a few instructions a byte (std::hash calls out to a general one).
struct NameHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const {
    uint64_t h = 0xcbf29ce484222325;
    for (char c : s) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3;
    return static_cast<size_t>(h);
  }
};
template <typename T>
using NameMap = std::unordered_map<std::string, T, NameHash, std::equal_to<>>;

struct Reg {
  enum Class { Gp, GpHigh, Xmm, Ymm, Seg, Sb, Fp, Pc };
  Class cls = Gp;
  uint32_t id = 0;  // Gp/GpHigh/Xmm/Ymm: the hardware number; Seg: asmjit's segment id
};

std::optional<Reg> find_register(std::string_view name);

// How an instruction's operands are written and lowered.
enum class Form {
  Binary,    // src, dst -> Intel dst, src
  Compare,   // CMP keeps the Intel order
  Unary,     // one operand
  Shift,     // count ($n or CX), dst
  Extend,    // MOVBLZX and friends: src sized by src_size
  None,      // no operands
  StringOp,  // MOVSQ, STOSQ: implicit operands
  Jump,      // label, N(PC), register or memory
  Call,
  Int,       // INT $n
  Prefix,    // REP, REPN, LOCK: a statement of its own, applied to the next instruction
  Auto,      // derived from asmjit's database: any operand count, all reversed into Intel order
  Raw,       // BYTE/WORD/LONG/QUAD $v: the value's bytes, little-endian, in the code
};

struct Mnemonic {
  asmjit::InstId id = asmjit::x86::Inst::kIdNone;
  uint32_t size = 0;  // operand size from the suffix; 0 when it does not apply
  Form form = Form::None;
  uint32_t src_size = 0;
  Prefix prefix = Prefix::None;
};

// The mnemonics written out by hand, by their Plan 9 name (MOVQ, MOVBLZX, ...): those whose operands need more
// than Go's rule (source operands first, destination last) or whose names do not follow Intel's.
const NameMap<Mnemonic>& mnemonics();

// Any mnemonic: the table above, else derived from asmjit's instruction database by Go's naming rules -
// Jcc/SETcc/CMOVcc with Go's condition names (JEQ, SETHI, CMOVQLT) or Intel's (JL, JNBE), an Intel name
// upper-cased with a B/W/L/Q size suffix for GP operands (BSWAPL, BSFQ, BTSQ), or as it is (SQRTSD, SYSCALL),
// and the few Go names that differ from Intel's (WAIT, CVTSD2SL, PSHUFL, ...). A derived name is kept per
// thread once found (names that are no mnemonic are not: they end the assembly).
std::optional<Mnemonic> find_mnemonic(std::string_view name);

using Names = std::map<std::string, int64_t, std::less<>>;
// TEXT flags by name (Go's textflag.h), usable in the flags expression.
const Names& text_flags();

// General-purpose register `id` at the width the size suffix gives (0: the full 64 bits).
asmjit::x86::Gp sized_gp(uint32_t id, uint32_t size);

}  // namespace w64stub::plan9
