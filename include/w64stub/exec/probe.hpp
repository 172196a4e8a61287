// Probe: the Win64 calling contract, judged from what a harness run observed. Per call site: 16-byte
// alignment at the CALL, a home area and stack arguments inside the stub's own frame, arguments that do not
// come from a previous callee's leftovers. Per stub: returned normally, nonvolatile registers (RBX, RBP, RDI,
// RSI, R12-R15, XMM6-XMM15) and MXCSR's control bits preserved (its status flags are volatile), RSP balanced,
// DF clear, the caller's frame untouched.
// Each violation names the instruction responsible (offset, disassembly, source line) where it can.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "w64stub/core/error.hpp"
#include "w64stub/exec/harness.hpp"
#include "w64stub/core/image.hpp"

namespace w64stub {

struct Violation {
  std::string rule;         // "call-alignment", "home-area", "stack-arguments", "volatile-reliance",
                            // "nonvolatile", "mxcsr", "rsp-balance", "direction-flag", "caller-frame",
                            // "fault", "syscall" (denied by the sandbox), "escaped", "timeout", "died",
                            // "forged-outcome" (the stub wrote over the harness's record of the run),
                            // "unwind" (under Wine, with the unwind check)
  std::string message;
  int64_t offset = -1;      // the instruction responsible, in the stub's text; -1 when none can be named
  std::string instruction;  // its disassembly
  SourceLoc loc;            // and where it came from
  std::string source;
};

struct CallCheck {
  bool aligned = true;          // RSP = 0 (mod 16) at the CALL
  bool home_area = true;        // the callee's 32 bytes above its return address lie in the stub's frame
  bool stack_arguments = true;  // so do its 5th and later arguments
  std::vector<Finding> findings;  // what the call did that is not an ABI matter: a failed call, a note
};

struct StubCheck {
  bool returned = false;
  bool nonvolatiles_preserved = false;
  bool mxcsr_preserved = false;
  bool rsp_balanced = false;
  bool df_clear = false;
  bool caller_frame_intact = false;
};

struct ProbeReport {
  RunReport run;
  std::vector<CallCheck> calls;  // one per run.calls
  StubCheck stub;
  std::vector<Violation> violations;

  bool conformant() const { return violations.empty(); }
  bool any(Finding::Kind kind) const;  // a finding of that kind on any call
};

// A diagnosis plug-in: findings about one call of a run, beyond what its stand-in and signature tell
// (the catalog's "the count is the address of the length" is one).
using Diagnosis = std::function<void(const Image& image, const RunReport& run, const CallRecord& call,
                                     std::vector<Finding>& out)>;

// Judges a run; `standins` are the ones that answered its calls (for their own findings).
ProbeReport check_contract(const Image& image, RunReport run, std::span<const Diagnosis> diagnoses = {},
                           std::span<const StandIn> standins = builtin_standins());

// Runs the Image under the harness and checks the contract.
Expected<ProbeReport> probe(const Image& image, const RunOptions& options = {},
                            std::span<const Diagnosis> diagnoses = {});
// Probes each Image, as probe does, through run_native_all: up to 64 stubs in one child.
std::vector<Expected<ProbeReport>> probe_all(std::span<const Image> images, const RunOptions& options = {},
                                             std::span<const Diagnosis> diagnoses = {});

}  // namespace w64stub
