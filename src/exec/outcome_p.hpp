// The outcome of a native run: what the child leaves for the parent in memory they share. Plain data, written
// by the asmjit trampolines through offsetof, by the child's C++ and by its signal handler.
#pragma once

#include <signal.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>

#include "w64stub/core/callconv.hpp"
#include "w64stub/core/image.hpp"
#include "w64stub/exec/harness.hpp"
#include "w64stub/exec/run_host.hpp"

namespace w64stub::harness {

inline constexpr size_t kMaxCalls = 256;
inline constexpr size_t kMaxSymbols = 64;
inline constexpr size_t kCaptureBytes = 16384;
inline constexpr int kMaxArgs = 8;  // arguments the callees record: RCX, RDX, R8, R9 and [RSP+40..+64)
inline constexpr int kExitSetupFailed = 70, kExitFaulted = 71, kExitStopped = 72;
inline constexpr int kStopSignal = SIGUSR1;  // the parent's "time is up": the child reports where it was

struct CallSlot {
  uint32_t import_index;
  int32_t stream;
  uint64_t args[4], stack_args[4], xmm_args[4];
  uint64_t entry_rsp, return_address, result;
  uint32_t last_error, output_offset, output_size;
  int64_t out_values[kMaxArgs];  // out32 arguments after the call; -1 unreadable or not one
};

struct Outcome {
  char error[512];
  uint64_t text_address, data_address;
  uint8_t at_image_addresses, returned, calls_truncated;
  int32_t wx_mappings;
  uint64_t host_rsp, rsp_before_call, rsp_after_return, rflags_after, rax_after;
  uint64_t gp_after[std::size(win64::kNonvolatileGps)];
  uint64_t xmm_after[win64::kNonvolatileXmms][2];
  uint32_t mxcsr_host, mxcsr_after;
  uint64_t caller_frame[kMarkerWords];
  uint32_t marker_offset;  // where the caller put the marker, from RSP at the call
  int32_t signal, code;
  uint64_t fault_address, fault_rip, fault_rsp;
  uint32_t call_count;
  CallSlot calls[kMaxCalls];
  uint64_t placed[kMaxSymbols];
  uint32_t out_size[2];
  char out[2][kCaptureBytes];
};
static_assert(std::is_standard_layout_v<Outcome>);

// An Outcome in memory shared with every process forked after it is mapped, zeroed.
using SharedOutcome = std::unique_ptr<Outcome, UnmapOutcome>;
Expected<SharedOutcome> map_outcome();

// What the child sends the parent through a pipe just before it calls the stub, and then closes: the stub
// cannot reach it, so the parent takes the placement from here and judges the shared outcome against it.
struct Setup {
  uint64_t text_address, data_address;
  uint32_t marker_offset;
  int32_t wx_mappings;
  uint8_t at_image_addresses;
  uint64_t placed[kMaxSymbols];
};
static_assert(sizeof(Setup) <= 4096);  // one write into a pipe: all or nothing

// The imports of an Image, in order, with the stand-in that answers each (nullptr: none).
// A callee the harness puts behind each import and each external (a function of another file, called).
struct ImportSlot {
  const Symbol* symbol;
  const StandIn* stand_in;
};
std::vector<ImportSlot> import_slots(const Image& image, std::span<const StandIn> standins);

// Runs the stub in this (forked) process and never returns: exit 0 once it returned, else kExit*. The Setup
// goes to `setup_fd` just before the call.
[[noreturn]] void child_main(const Image& image, const RunOptions& options, Outcome* out, int setup_fd);

// How a child ended, beyond what it left in the Outcome: its wait status, and the Setup it sent.
struct Execution {
  int status = 0;
  bool started = false;      // the whole Setup arrived: the stub was called
  bool stopped = false;      // the harness asked it to stop (its time was up)
  bool group_ended = false;  // no process of its group is left
  Setup setup{};
};
static_assert(std::is_trivially_copyable_v<Execution>);

// Forks the child that runs the stub (from this process), waits for it and ends its process group. `out`
// is memory shared with the child, zeroed.
Expected<Execution> execute(const Image& image, const RunOptions& options, Outcome* out);

// The RunReport a finished child's outcome describes, placed as `setup` says. Every count and offset the child
// wrote is checked: a stub can write to the outcome page too, and nothing it writes may crash the parent;
// a field no harness could have written is reported in RunReport::outcome_forged.
RunReport collect(const Image& image, const RunOptions& options, const Outcome& out, const Setup& setup);

}  // namespace w64stub::harness
