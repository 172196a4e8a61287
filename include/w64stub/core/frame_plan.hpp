// Frame plan: the Win64 frame of a function a JIT author writes, planned once: nonvolatile registers pushed,
// XMM6-XMM15 saved with movaps, an optional frame pointer, locals, the outgoing area (home area and the most
// stack arguments any call passes), and RSP 16-byte aligned at every call. The plan says where each incoming
// argument and each local lives, and emits the prolog and epilog into a Program, in the order Win64 unwind
// data can describe (win/unwind.hpp derives it from the emitted code).
//
//   entry RSP -> | return address |
//                | pushes         |  saved nonvolatile GPRs, in `pushes` order
//                | XMM saves      |  16 bytes each, at RSP+xmm_offset
//                | locals         |  at RSP+locals_offset
//                | stack args     |  the 5th and later arguments of the calls made, at RSP+32
//   RSP       -> | home area      |  32 bytes for the callee
#pragma once

#include <asmjit/x86.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "w64stub/core/callconv.hpp"
#include "w64stub/core/error.hpp"
#include "w64stub/core/program.hpp"

namespace w64stub {

struct FrameRequest {
  std::vector<asmjit::x86::Gp> saved;       // nonvolatile GPRs the body uses (RBX, RSI, ...), pushed in order
  std::vector<asmjit::x86::Xmm> saved_xmm;  // XMM6-XMM15 the body uses
  bool frame_pointer = false;               // RBP set after the allocation (RBP is saved too)
  int32_t locals = 0;                       // bytes, rounded up to 8
  int call_args = -1;                       // the most arguments any call passes; -1 for a leaf (no home area)
};

// Where a value lives after the prolog: an offset from RSP and, with a frame pointer, from it.
struct StackSlot {
  int32_t rsp = 0;
  std::optional<int32_t> fp;
};

// Where an incoming argument is at the body: its register (the first four) and its stack slot (the home slot
// the caller reserved, or the 5th and later argument's own).
struct ArgumentLocation {
  std::optional<asmjit::x86::Reg> reg;
  StackSlot slot;
};

struct FramePlan {
  std::vector<asmjit::x86::Gp> pushes;
  std::vector<asmjit::x86::Xmm> xmm_saves;
  int32_t allocation = 0;     // the sub rsp, N after the pushes
  int32_t outgoing = 0;       // home area and stack arguments at [RSP, RSP+outgoing)
  int32_t locals_offset = 0;  // locals at [RSP+locals_offset, +locals)
  int32_t locals = 0;
  int32_t xmm_offset = 0;     // the XMM save slots
  bool xmm_aligned = true;    // movaps (else movups)
  bool frame_pointer = false;
  int32_t fp_offset = 0;      // RBP = RSP + fp_offset (after the prolog)
  bool fp_first = false;      // asmjit's order: push rbp; mov rbp, rsp before the other pushes

  int32_t depth() const { return win64::kSlot * static_cast<int32_t>(pushes.size()) + allocation; }
  ArgumentLocation argument(int index, bool floating = false) const;
  StackSlot local(int32_t offset) const;

  void prolog(Program& program, const SourceLoc& loc = {}) const;
  // The epilog and the RET; call it before every return.
  void epilog(Program& program, const SourceLoc& loc = {}) const;
};

// A frame of at most one page below the pushes (a larger one needs stack probes, which plans do not emit).
Expected<FramePlan> plan_frame(const FrameRequest& request);

// asmjit's own layout and order for a finalized FuncFrame (push rbp; mov rbp, rsp first when it preserves
// the frame pointer), so that a plan from it emits the bytes asmjit's emitProlog/emitEpilog do.
// Dynamic stack alignment is refused: Win64 unwind data cannot describe it.
Expected<FramePlan> plan_frame(const asmjit::FuncFrame& frame);

}  // namespace w64stub
