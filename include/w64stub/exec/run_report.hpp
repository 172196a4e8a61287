// RunReport: what one execution of a stub observed, natively under the harness (everything) or under Wine
// through tools/winrun (the calls, the nonvolatile GPs and DF; XMM6-XMM15, MXCSR, RSP and the stub's own frame
// are not observed there).
#pragma once

#include <array>
#include <optional>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "w64stub/core/callconv.hpp"

namespace w64stub {

using Xmm = std::array<uint64_t, 2>;

// The nonvolatile registers, in win64::kNonvolatileGps order, then XMM6-XMM15 and MXCSR.
struct Nonvolatiles {
  std::array<uint64_t, std::size(win64::kNonvolatileGps)> gp{};
  std::array<Xmm, win64::kNonvolatileXmms> xmm{};
  uint32_t mxcsr = 0;
};

// Something a call did that is not an ABI matter: a failure (the call failed) or a note.
struct Finding {
  enum Kind { Note, Failure };
  Kind kind = Note;
  std::string text;
};

struct CallRecord {
  std::string function;            // the import's function name; its symbol when it names none
  std::string dll;
  bool answered = false;           // by a stand-in (native) or the real function (Wine); else it returned 0
  win64::Signature signature;      // declared by the stand-in; four unnamed u64 arguments otherwise
  std::array<uint64_t, 4> args{};  // RCX, RDX, R8, R9 on entry
  std::array<uint64_t, 4> stack_args{};  // [RSP+40] onward on entry: the 5th to 8th arguments
  uint64_t entry_rsp = 0;          // RSP at the callee's first instruction
  uint64_t return_address = 0;
  int call_residue = 0;            // RSP mod 16 at the CALL that got here; the contract wants 0
  int64_t call_offset = -1;        // offset of that CALL in the stub's text, -1 if the return is not into it
  uint64_t result = 0;
  uint32_t last_error = 0;         // the thread's last-error value after the call
  int stream = -1;                 // where the call wrote: 1 stdout, 2 stderr (native runs), -1 nowhere
  std::string output;              // what it wrote there
  std::vector<std::pair<int, int64_t>> out_values;  // out32 parameters after the call: (index, value; -1 unreadable)

  std::array<uint64_t, 4> xmm_args{};  // XMM0-XMM3 (low halves) on entry: floating arguments 1-4 (native runs)

  // Argument `index` as the callee got it: RCX-R9 or, for a floating one, XMM0-XMM3; then the stack.
  uint64_t argument(int index) const {
    if (index >= 4) return stack_args[index - 4];
    const bool floating = index < signature.count() && win64::is_float(signature.params[static_cast<size_t>(index)].type);
    return floating ? xmm_args[index] : args[index];
  }
};

enum class Ending { Returned, Faulted, TimedOut, Died };
std::string_view name(Ending ending);

struct Fault {
  int signal = 0;             // SIGSEGV, ...; for a timeout the signal that stopped it
  int code = 0;               // siginfo si_code; Died: the exit status
  uint64_t address = 0;       // siginfo si_addr: what it touched
  uint64_t rip = 0, rsp = 0;  // where it was
  int64_t offset = -1;        // rip inside the stub's text, -1 if elsewhere
};

// Where a run happened: natively under the harness, or under Wine through tools/winrun.
enum class Host { Native, Wine };
std::string_view name(Host host);

struct RunReport {
  Host host = Host::Native;
  uint64_t text_address = 0, data_address = 0;
  bool at_image_addresses = false;
  int entry_residue = win64::kEntryResidue;
  Ending ending = Ending::Died;
  Fault fault;                       // Faulted, TimedOut; Died: the signal or exit status
  uint64_t stub_entry_rsp = 0;       // RSP at the stub's first instruction (its return address is there)
  uint64_t rsp_after_return = 0;     // the contract: stub_entry_rsp + 8
  Nonvolatiles after;                // as the stub left them (valid when Returned); it got canaries()
  bool gp_and_flags_only = false;    // Wine: of `after` and the flags only the GPs and DF were observed
  uint64_t rflags_after = 0;
  uint64_t value = 0;                // RAX on return: the stub's result
  std::array<uint64_t, 4> caller_frame{};  // the marker words above the stub's home area, after the return
  int32_t marker_offset = win64::kHomeArea;  // where they were, above the entry RSP's return address
  std::optional<win64::Signature> signature; // the stub's own, when it declared one (its arguments were canaries)
  std::vector<CallRecord> calls;
  bool calls_truncated = false;      // more calls than the harness keeps
  std::string captured_stdout, captured_stderr;
  std::vector<std::pair<std::string, uint64_t>> placed;  // where each of the Image's symbols was placed
  int wx_mappings = -1;              // writable+executable mappings in the child just before the call
  bool processes_left = false;       // a process of the run's group outlived it (the harness kills them all)
  std::string outcome_forged;        // native: what the stub overwrote in the harness's outcome ("" nothing seen)
  // Under Wine with the unwind check: instruction boundaries where Windows' unwinder was asked (-1: not
  // checked), and where it did not give back the caller's state.
  int unwind_checked = -1;
  std::vector<std::pair<int64_t, std::string>> unwind_failures;

  bool returned() const { return ending == Ending::Returned; }
  bool rsp_intact() const { return returned() && rsp_after_return == stub_entry_rsp + 8; }
  bool df_clear() const { return (rflags_after & (uint64_t{1} << win64::kDirectionFlagBit)) == 0; }
  uint64_t address_of(std::string_view symbol) const;  // 0 when unknown
};

}  // namespace w64stub
