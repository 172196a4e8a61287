// Link: the TEXT symbols of one file joined into one Program, as a linker lays them out, so that calls and
// jumps between them are resolved in place (jumps relaxed to rel8 where they reach) instead of left to
// relocations against externals.
#pragma once

#include <span>
#include <string_view>

#include "w64stub/core/error.hpp"
#include "w64stub/core/program.hpp"

namespace w64stub {

// `entry` first, then every other Program it reaches through a symbol operand (CALL f(SB), JMP f(SB),
// MOVQ $f(SB), AX), directly or through another, in the order given; with an empty `entry`, all of them, the
// first being the entry. Each keeps its own labels (renamed "SYMBOL:label"), $N frame and source lines;
// imports and data are shared by name and must agree; what none of them defines stays external.
struct LinkOptions {
  // A JMP/Jcc to another function starts short and grows as a jump to a label does. Off: it keeps its rel32
  // form, as Go's assembler and GNU as (for a global symbol) write it; either way it is resolved in place.
  bool relax_between_functions = true;
};

Expected<Program> link(std::span<const Program> programs, std::string_view entry = {}, const LinkOptions& options = {});

}  // namespace w64stub
