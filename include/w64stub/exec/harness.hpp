// Harness: executes an Image natively on Linux x86-64 as a Win64 function, in a child process, and records
// everything a Win64 reviewer would want to check. It observes; the probe stage judges.
//
// Caller: an asmjit trampoline sets the entry condition (RSP = 8 mod 16 by default), gives the stub its own
// 32-byte home area, puts a marker in the caller's frame above it, loads a distinct canary into every
// nonvolatile register (RBX, RBP, RDI, RSI, R12-R15, XMM6-XMM15), calls the stub and records them all again,
// with RSP, RFLAGS and MXCSR, when it returns.
// Callees: one asmjit thunk per import records RSP and the arguments on entry, then behaves like a hostile
// but legal Windows callee: it overwrites its 32-byte home area, runs the Windows-like stand-in (on a
// realigned stack, so a misaligned caller is reported rather than crashed) and clobbers every volatile
// register but RAX on the way out.
// Child: a stub that faults is reported with the signal, the faulting address and RIP; one that does not
// return in time is stopped and reported with the RIP it was spinning at. The parent lives on.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "w64stub/core/error.hpp"
#include "w64stub/core/frame.hpp"
#include "w64stub/core/image.hpp"
#include "w64stub/exec/standins.hpp"

namespace w64stub {

// Win64's nonvolatile general-purpose registers, in the order RunReport keeps them.
inline constexpr std::array<std::string_view, 8> kNonvolatileGps = {"rbx", "rbp", "rdi", "rsi",
                                                                   "r12", "r13", "r14", "r15"};
inline constexpr int kFirstNonvolatileXmm = 6;  // XMM6-XMM15
inline constexpr int kNonvolatileXmms = 10;

using Xmm = std::array<uint64_t, 2>;
struct Nonvolatiles {
  std::array<uint64_t, kNonvolatileGps.size()> gp{};
  std::array<Xmm, kNonvolatileXmms> xmm{};
  uint32_t mxcsr = 0;
};

// What the trampoline loads before the call: distinct and non-canonical, so a stub that dereferences one faults.
Nonvolatiles canaries();
// What the caller keeps in its frame above the stub's home area.
inline constexpr int kMarkerWords = 4;
uint64_t marker_word(int index);

// What hostile callees leave behind: in their home area and in each volatile register. All non-canonical.
inline constexpr uint64_t kHomeAreaPoison = 0xBAD0'0000'4E4D'0000;  // then + the byte offset in the home area
inline constexpr uint64_t kVolatilePoison = 0xBAD0'0000'0000'0000;  // then + 1 RCX, 2 RDX, 8..11 R8..R11
inline constexpr uint64_t kXmmPoison = 0xBAD0'0000'0000'0F00;       // then + the XMM number, both halves

struct CallRecord {
  std::string function;            // "WriteFile"; for an import without a stand-in, its symbol
  std::string dll;
  bool stand_in = false;           // false: the callee returned 0 and did nothing else
  int argument_count = 4;          // known for stand-ins; 4 otherwise
  std::array<uint64_t, 4> args{};  // RCX, RDX, R8, R9 on entry
  std::array<uint64_t, 4> stack_args{};  // [RSP+40] onward on entry: the 5th to 8th arguments
  uint64_t entry_rsp = 0;          // RSP at the callee's first instruction
  uint64_t return_address = 0;
  int call_residue = 0;            // RSP mod 16 at the CALL that got here; the contract wants 0
  int64_t call_offset = -1;        // offset of that CALL in the stub's text, -1 if the return is not into it
  uint64_t result = 0;
  uint32_t last_error = 0;         // after the call
  int fd = -1;                     // WriteFile: where the bytes went (native runs)
  std::string written;             // WriteFile: the bytes it wrote (native runs)
  int64_t written_count = -1;      // WriteFile: *lpNumberOfBytesWritten after the call, -1 if none

  uint64_t argument(int index) const { return index < 4 ? args[index] : stack_args[index - 4]; }
};

enum class Ending { Returned, Faulted, TimedOut, Died };
std::string_view name(Ending ending);

struct Fault {
  int signal = 0;             // SIGSEGV, ...; for a timeout the signal that stopped it
  int code = 0;               // siginfo si_code
  uint64_t address = 0;       // siginfo si_addr: what it touched
  uint64_t rip = 0, rsp = 0;  // where it was
  int64_t offset = -1;        // rip inside the stub's text, -1 if elsewhere
};

struct RunOptions {
  bool capture = true;  // keep what WriteFile writes; false also writes it to the real fds 1/2
  int entry_residue = kWin64EntryResidue;
  bool at_image_addresses = true;
  std::chrono::milliseconds timeout{2000};  // from the call into the stub; setting it up is not counted
};

// Where a run happened: natively under this harness (everything observed), or under Wine through
// tools/winrun (the calls observed; registers, flags and the stub's own frame not).
enum class Host { Native, Wine };
std::string_view name(Host host);

struct RunReport {
  Host host = Host::Native;
  uint64_t text_address = 0, data_address = 0;
  bool at_image_addresses = false;
  int entry_residue = kWin64EntryResidue;
  Ending ending = Ending::Died;
  Fault fault;                       // Faulted, TimedOut; Died: the signal or exit status in fault.signal
  uint64_t stub_entry_rsp = 0;       // RSP at the stub's first instruction (its return address is there)
  uint64_t rsp_after_return = 0;     // the contract: stub_entry_rsp + 8
  Nonvolatiles after;                // as the stub left them (valid when Returned); it got canaries()
  uint64_t rflags_after = 0;
  std::array<uint64_t, kMarkerWords> caller_frame{};  // the marker words after the return
  std::vector<CallRecord> calls;
  bool calls_truncated = false;      // more calls than the harness keeps
  std::string captured_stdout, captured_stderr;
  std::vector<std::pair<std::string, uint64_t>> placed;  // where each of the Image's symbols was placed
  int wx_mappings = -1;              // writable+executable mappings in the child just before the call

  bool returned() const { return ending == Ending::Returned; }
  bool rsp_intact() const { return returned() && rsp_after_return == stub_entry_rsp + 8; }
  bool df_clear() const { return (rflags_after & (1u << 10)) == 0; }
  uint64_t address_of(std::string_view symbol) const;  // 0 when unknown
};

// Instantiates the Image in a child process and calls it once. Errors are for what kept it from running at
// all; a stub that misbehaves is a RunReport.
Expected<RunReport> run_native(const Image& image, const RunOptions& options = {});

}  // namespace w64stub
