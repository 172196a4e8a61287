// Plan 9 operands and constant expressions: the parsing half of the plan9 stage (private to it).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "w64stub/core/error.hpp"
#include "w64stub/core/small_vector.hpp"
#include "arch_p.hpp"
#include "lex_p.hpp"

namespace w64stub::plan9 {


// An operand as written, before the instruction sizes it.
struct Arg {
  enum Kind { Register, Immediate, Float, Address, String, Memory, Symbol, Frame, Label, PcRelative };
  Kind kind = Immediate;
  TokenLoc loc;
  // The tokens it was written as [begin, end): spelled only for a message (the tokens outlive the Arg).
  Tokens tokens;
  size_t begin = 0, end = 0;
  Reg reg;            // Register
  int64_t value = 0;  // Immediate; the offset of Address/Symbol/Frame/Memory; N of N(PC)
  double real = 0;    // Float: $0.5, $(0.0), $-2.0
  std::string_view name;  // Address/Symbol: the symbol; Label: the label; String: the bytes (tokens' text)
  std::optional<Reg> base, index, segment;
  std::optional<Reg> low;  // a register pair hi:lo (6a's SHLQ CX, DX:AX): reg is hi
  int scale = 1;

  std::string text() const { return spell(tokens, begin, end); }
};


// The constant expression in tokens [begin, end): + - * / % << >> & | ^ ~, parentheses, Go's precedence.
// `names` gives values to identifiers (TEXT flags); any other identifier is an error.
Expected<int64_t> evaluate(Tokens tokens, size_t begin, size_t end, const Names* names = nullptr);

// "" when `value` fits an immediate of an instruction of `size` bytes (signed or unsigned, as Go takes it),
// else why not: never truncated into another value. Size 0: no limit.
std::string immediate_fits(int64_t value, uint32_t size);

// A floating constant as Go keeps it in memory: its name by its bits ($f64.3fe0000000000000, $f32.3f800000)
// and its `width` bytes.
std::pair<std::string, std::vector<uint8_t>> floating_constant_data(double value, uint32_t width);

// One operand: tokens [begin, end).
Expected<Arg> parse_arg(Tokens tokens, size_t begin, size_t end);

// Top-level comma-separated ranges of tokens [begin, end); a trailing comma adds nothing (`DIVL CX,`).
// Into `out` (cleared first), so that a caller can reuse its room statement after statement.
using Ranges = SmallVector<std::pair<size_t, size_t>, 8>;
void split_operands(Tokens tokens, size_t begin, size_t end, Ranges& out);
inline Ranges split_operands(Tokens tokens, size_t begin, size_t end) {
  Ranges out;
  split_operands(tokens, begin, end, out);
  return out;
}

}  // namespace w64stub::plan9
