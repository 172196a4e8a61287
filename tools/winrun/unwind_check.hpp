// The unwind check: runs a function one instruction at a time (the trap flag and a vectored exception
// handler), and at every instruction boundary inside it asks Windows' own unwinder (RtlLookupFunctionEntry,
// RtlVirtualUnwind) to unwind it. Each unwind must yield the caller's return address, RSP = entry RSP + 8 and
// every nonvolatile register's value at entry (RBX, RBP, RDI, RSI, R12-R15, XMM6-XMM15). Calls out of the
// function run at full speed: their return address is redirected through a breakpoint for the way back.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

extern "C" uint64_t winrun_guarded_call(uint64_t entry, const uint64_t* args, void* state);

namespace winrun {

// guard.S: what a guarded call saw of the stub's nonvolatile GPs (RBX RBP RDI RSI R12-R15) and RFLAGS.
struct GuardState {
  uint64_t rflags;
  uint64_t before[8], after[8];
};

struct UnwindFailure {
  uint64_t offset;
  std::string what;
};

struct UnwindCheck {
  int checked = 0;                      // instruction boundaries checked
  std::vector<UnwindFailure> failures;  // the first few
};

// Calls the function at `entry` (its code spans [text, text + size)) under the check, with up to eight
// arguments; its RAX goes to *value.
UnwindCheck call_checked(uint64_t text, uint64_t size, uint64_t entry, const uint64_t args[8], uint64_t* value,
                         GuardState* state);

// What a probe sees as its return address may be the check's breakpoint: the real one behind it.
uint64_t real_return_address(uint64_t seen);

}  // namespace winrun
