// The linker's stack check on NOSPLIT code: a NOSPLIT function runs in the reserve below the stack guard
// without checking it, so every chain of NOSPLIT calls must fit that reserve. Each call charges the return
// address it pushes (8) and the callee's declared frame, as Go's linkers count (stkcheck, from Go 1.1; the
// 2012 runtime's reserve was StackGuard - StackSmall = 256 - 128 = 128 bytes, Go 1.19's 928 - 128 = 800).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "w64stub/core/program.hpp"

namespace w64stub {

struct NosplitChain {
  static constexpr size_t kShown = 16;  // a longer chain keeps its first kShown - 1 symbols and its last
  std::vector<std::string> symbols;  // from the root, called in turn by direct CALLs (or tail JMPs)
  size_t length = 0;                 // the whole chain's symbols (symbols.size() unless it was longer than kShown)
  int64_t bytes = 0;                 // return addresses and declared frames along it, the root's call included
  bool over = false;                 // more than the limit
  bool leaves_file = false;          // its last call goes to an external: the file cannot say what follows
};

// For each TEXT symbol, its deepest chain through the others (a cycle counts once round); every Program is
// NOSPLIT (the front end refuses the others). Direct calls only: a call through a register is not followed.
// Time and memory linear in the file's calls, however long the chains (no recursion, no chain copied).
std::vector<NosplitChain> nosplit_chains(std::span<const Program> programs, int64_t limit);

}  // namespace w64stub
