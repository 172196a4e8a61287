// Harness: runs an Image natively on Linux x86-64 as a Win64 function, against Windows-like stand-ins for
// kernel32's GetStdHandle, WriteFile and GetLastError, and records what every call received.
//
// Call path: an asmjit entry trampoline sets the Win64 entry condition and calls the stub; each import slot
// points at an asmjit thunk that records RSP, realigns the stack (so a misaligned caller is reported, not
// crashed) and calls an ms_abi dispatcher, which calls the stand-in.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "w64stub/error.hpp"
#include "w64stub/frame.hpp"
#include "w64stub/image.hpp"

namespace w64stub {

inline constexpr uint32_t kErrorInvalidHandle = 6;
inline constexpr uint32_t kErrorNoAccess = 998;
inline constexpr uint32_t kErrorInvalidUserBuffer = 1784;

struct CallRecord {
  std::string function;            // "WriteFile"
  std::array<uint64_t, 5> args{};  // RCX, RDX, R8, R9 and the 5th argument at [RSP+40] on entry
  uint64_t entry_rsp = 0;
  int call_residue = 0;            // RSP mod 16 at the CALL that got here; the contract wants 0
  int64_t call_offset = -1;        // offset of that CALL in the stub's text, -1 if not from the stub
  uint64_t result = 0;
  uint32_t last_error = 0;         // after the call
  std::string written;             // WriteFile: the bytes it wrote
};

struct RunOptions {
  bool capture = true;  // keep what WriteFile writes instead of writing it to fds 1/2
  int entry_residue = kWin64EntryResidue;
  bool at_image_addresses = true;
};

struct RunReport {
  uint64_t text_address = 0, data_address = 0;
  bool at_image_addresses = false;
  int entry_residue = kWin64EntryResidue;
  uint64_t rsp_before_call = 0;   // in the entry trampoline, just before CALL
  uint64_t rsp_after_return = 0;
  std::vector<CallRecord> calls;
  std::string captured_stdout, captured_stderr;
  std::vector<std::string> findings;  // what a Win64 reviewer would flag; empty when all is well

  bool rsp_intact() const { return rsp_before_call == rsp_after_return; }
};

// Instantiates and calls the Image once. Errors are for what kept it from running at all.
Expected<RunReport> run_native(const Image& image, const RunOptions& options = {});

}  // namespace w64stub
