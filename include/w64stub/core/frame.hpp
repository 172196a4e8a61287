// Frame: the Win64 stack frame of a stub, analysed from an Image's code (frame_plan.hpp plans one).
//
// Analysis decodes the Image's instructions, so an Image read from a file answers as one fresh from emit.
// Go's 2012 linker adds a second source of stack adjustment: a declared `$N` frame makes it insert
// `sub rsp, N` / `add rsp, N`; they are in the code, and the Image says how much of the frame was declared.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "w64stub/core/callconv.hpp"
#include "w64stub/core/error.hpp"
#include "w64stub/core/image.hpp"

namespace w64stub {

struct CallSite {
  uint32_t offset = 0;   // of the CALL in the text
  int32_t depth = 0;     // bytes below the entry RSP at the CALL
  int residue = 0;       // RSP mod 16 at the CALL; the contract wants 0
  SourceLoc loc;         // where it came from, when the Image knows
  bool aligned() const { return residue == 0; }
};

struct Frame {
  int32_t declared = 0;         // linker-managed ($N)
  int32_t explicit_adjust = 0;  // deepest sub rsp / push in the body itself
  int32_t shadow = 0;           // home area the calls get (32 when the stub calls anything)
  int32_t stack_args = 0;       // outgoing arguments written at [RSP+32] and above before a call
  int32_t locals = 0;           // the rest of the frame
  int entry_residue = win64::kEntryResidue;
  std::vector<CallSite> calls;  // in text order
  bool balanced = true;         // every RET finds RSP where it was at entry
  std::vector<std::string> notes;  // what the analysis saw and could not follow

  int32_t total() const { return declared + explicit_adjust; }
  int32_t max_depth() const { return total() + 8; }  // with the return address
  bool calls_aligned() const;
};

// Follows RSP along every path through the code (jumps and branches included) from an entry
// RSP = entry_residue (mod 16); where paths disagree, or RSP is set in a way it cannot follow, it says so.
Frame analyze_frame(const Image& image, int entry_residue = win64::kEntryResidue);

}  // namespace w64stub
