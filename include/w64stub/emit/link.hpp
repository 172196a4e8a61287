// Link: the TEXT symbols of one file joined into one Program, as a linker lays them out, so that calls and
// jumps between them are resolved in place (jumps relaxed to rel8 where they reach) instead of left to
// relocations against externals.
#pragma once

#include <map>
#include <span>
#include <string_view>
#include <vector>

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
  // Off: a function reached only through CALLs is not linked in; the CALL stays a relocation against an
  // external. For a caller's own facts (its frame), where a callee's code plays no part.
  bool follow_calls = true;
};

Expected<Program> link(std::span<const Program> programs, std::string_view entry = {}, const LinkOptions& options = {});

// Links entries of one file's Programs, the symbols indexed once: linking each of N symbols costs what each
// reaches, not N more (as N calls of link() would).
class Linker {
 public:
  explicit Linker(std::span<const Program> programs, LinkOptions options = {});
  Expected<Program> link(std::string_view entry = {}) const;

 private:
  std::vector<size_t> reached(size_t entry) const;

  std::span<const Program> programs_;
  LinkOptions options_;
  std::map<std::string_view, size_t> index_;  // symbol -> its first Program
};

}  // namespace w64stub
