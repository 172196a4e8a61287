// Jump relaxation, GNU as's: every jump to a label starts in its rel8 form and grows to rel32 while its
// target is out of reach; growing only moves targets away, so this ends at the least fixpoint (two jumps
// that reach each other only when both are short stay short).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace w64stub {

struct RelaxJump {
  size_t item = 0;    // the jump's instruction index
  size_t target = 0;  // the label's instruction index (the number of instructions: the code's end)
  uint32_t long_length = 5;  // its rel32 form: 5 (jmp) or 6 (jcc)
};

// `lengths` holds each instruction's length with every jump in its 2-byte rel8 form. For each jump: whether
// it stays short. A worklist: a jump is checked again only when one within its reach grew (a short jump's
// reach is 129 bytes, so few are), and positions are kept in a Fenwick tree - n log n, where checking every
// jump after each growth needed one pass over the code per jump that grew.
std::vector<bool> relax_jumps(std::span<const uint32_t> lengths, std::span<const RelaxJump> jumps);

}  // namespace w64stub
