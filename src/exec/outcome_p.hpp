// The outcome of a native run: what the child leaves for the parent in memory they share. Plain data, written
// by the asmjit trampolines through offsetof, by the child's C++ and by its signal handler.
#pragma once

#include <signal.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>
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
  uint64_t placed[kMaxSymbols];
  uint32_t out_size[2];
  uint32_t call_count;
  CallSlot calls[kMaxCalls];  // the first few on the first page with all the above: a run touches few pages
  char out[2][kCaptureBytes];
};
static_assert(std::is_standard_layout_v<Outcome>);

// An Outcome in memory shared with every process forked after it is mapped, zeroed.
using SharedOutcome = std::unique_ptr<Outcome, UnmapOutcome>;
Expected<SharedOutcome> map_outcome();

// Copies what collect reads of `from` to `to`: all but the calls and the output beyond the counts, which a
// copy of the whole would page in for nothing (87 KB a stub).
void copy_outcome(Outcome& to, const Outcome& from);

// `count` of them, one per stub of a batch.
struct UnmapOutcomes {
  size_t count = 0;
  void operator()(Outcome* outs) const;
};
using SharedOutcomes = std::unique_ptr<Outcome[], UnmapOutcomes>;
Expected<SharedOutcomes> map_outcomes(size_t count);

// The most stubs one child runs: each keeps its callees, instance and caller mapped until the child ends, and
// the Setups of all of them pass through one pipe.
inline constexpr size_t kBatchLimit = 64;

// What the child sends the parent through a pipe for each stub (after their count, a uint32_t) before it
// calls the first, and then closes: no stub can reach it, so the parent takes the placement from here and
// judges the shared outcome against it.
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

// Runs the stubs in this (forked) process, in turn, stub k's outcome in outs[k], and never returns: exit 0
// once the last returned, else kExit*. The Setups go to `setup_fd` before the first call. It builds as many
// of the stubs as it can before the first (at most all): one that cannot be built is left to a child of its
// own, as is one an earlier stub keeps from its own addresses.
[[noreturn]] void child_main(std::span<const Image* const> images, const RunOptions& options, Outcome* outs,
                             int setup_fd);

// How a child ended, beyond what it left in the Outcome: its wait status, and the Setup it sent.
struct Execution {
  int status = 0;
  bool started = false;      // the whole Setup arrived: the stub was called
  bool stopped = false;      // the harness asked it to stop (its time was up)
  bool group_ended = false;  // no process of its group is left
  Setup setup{};
};
static_assert(std::is_trivially_copyable_v<Execution>);

// Forks the child that runs up to kBatchLimit stubs (from this process), waits for it and ends its process
// group: one Execution per stub. `outs` is memory shared with the child, zeroed, an Outcome per stub. Each
// stub has `options.timeout` from when the parent sees it called (it looks every eighth of that). The first
// stub that does not return ends the child and carries its wait status; it and those before it are started,
// the ones after it not (to be run in another child).
Expected<std::vector<Execution>> execute(std::span<const Image* const> images, const RunOptions& options,
                                         Outcome* outs);

// Runs the stubs, up to kBatchLimit to a child; a stub that ended its child after others ran there, and the
// ones after it, in the next. Hands `each` every stub's index, Outcome and Execution (or why it could not run:
// no Outcome), in order. The Outcome lives until `each` returns.
using EachExecution = std::function<void(size_t index, const Outcome* out, Expected<Execution> done)>;
void execute_all(std::span<const Image* const> images, const RunOptions& options, const EachExecution& each);

// The RunReport a finished child's outcome describes, placed as `setup` says. Every count and offset the child
// wrote is checked: a stub can write to the outcome page too, and nothing it writes may crash the parent;
// a field no harness could have written is reported in RunReport::outcome_forged.
RunReport collect(const Image& image, const RunOptions& options, const Outcome& out, const Setup& setup);

}  // namespace w64stub::harness
