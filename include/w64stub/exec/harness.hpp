// Harness: executes an Image natively on Linux x86-64 as a Win64 function, in a child process, and records
// everything a Win64 reviewer would want to check (a RunReport). It observes; the probe stage judges.
//
// Caller: an asmjit trampoline sets the entry condition (RSP = 8 mod 16 by default), gives the stub its own
// 32-byte home area, puts a marker in the caller's frame above it, loads a distinct canary into every
// nonvolatile register (RBX, RBP, RDI, RSI, R12-R15, XMM6-XMM15), calls the stub and records them all again,
// with RSP, RFLAGS and MXCSR, when it returns.
// Callees: one asmjit thunk per import records RSP and the arguments on entry, then behaves like a hostile
// but legal Windows callee: it overwrites its 32-byte home area, runs the import's stand-in (on a realigned
// stack, so a misaligned caller is reported rather than crashed) and clobbers every volatile register but RAX
// on the way out.
// Child: a stub that faults is reported with the signal, the faulting address and RIP; one that does not
// return in time is stopped and reported with the RIP it was spinning at. The parent lives on.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

#include "w64stub/core/callconv.hpp"
#include "w64stub/core/error.hpp"
#include "w64stub/core/image.hpp"
#include "w64stub/exec/run_report.hpp"
#include "w64stub/exec/standins.hpp"

namespace w64stub {

class RunHost;

// What the trampoline loads before the call: distinct and non-canonical, so a stub that dereferences one faults.
Nonvolatiles canaries();
// What the caller keeps in its frame above the stub's home area.
inline constexpr int kMarkerWords = 4;
uint64_t marker_word(int index);
// What the caller passes as the stub's argument `index` when the stub declares its arguments: distinct and
// non-canonical (in the low half of XMM0-XMM3 for floating ones), so that the report can say where each went.
uint64_t argument_canary(int index);
inline constexpr int kMaxStubArguments = 16;

// What hostile callees leave behind: in their home area and in each volatile register. All non-canonical.
inline constexpr uint64_t kHomeAreaPoison = 0xBAD0'0000'4E4D'0000;  // then + the byte offset in the home area
inline constexpr uint64_t kVolatilePoison = 0xBAD0'0000'0000'0000;  // then + the register's asmjit id
inline constexpr uint64_t kXmmPoison = 0xBAD0'0000'0000'0F00;       // then + the XMM number, both halves

struct RunOptions {
  bool capture = true;  // keep what the stub writes; false also passes it to the real stdout/stderr
  int entry_residue = win64::kEntryResidue;
  bool at_image_addresses = true;
  std::chrono::milliseconds timeout{2000};  // from the call into the stub; setting it up is not counted
  std::span<const StandIn> standins = builtin_standins();  // what answers the imports; others return 0
  // The stub's own arguments, when it declares them: the caller passes argument_canary(i) for each (in their
  // registers and stack slots) and the report says which callee argument each reached. Up to 16.
  std::optional<win64::Signature> signature;
  // Where the child is forked from: this process (null), or a RunHost started while this process was small,
  // so that a run costs the same however much memory this process holds by now (fork copies page tables).
  RunHost* host = nullptr;
};

// Instantiates the Image in a child process and calls it once. Errors are for what kept it from running at
// all; a stub that misbehaves is a RunReport.
Expected<RunReport> run_native(const Image& image, const RunOptions& options = {});

// Runs each Image as run_native does, one report each in the same order, but up to 64 of them in one child,
// called in turn: the fork, the child's set-up and its sandbox are paid once for them (through a RunHost too,
// in one request). Each stub gets fresh callees, its own outcome, a stack cleared of the stub before, and
// guard pages around its text and data. The one that does not return ends its child and runs again first in
// the next (its report is then a lone run's), those after it behind it; one whose pages an earlier stub of
// the child takes or touches runs first in a child of its own. The stubs of a child share its address
// space: one that writes through a wild pointer can change what the harness records for the others there,
// as a lone stub can for itself.
std::vector<Expected<RunReport>> run_native_all(std::span<const Image> images, const RunOptions& options = {});

}  // namespace w64stub
