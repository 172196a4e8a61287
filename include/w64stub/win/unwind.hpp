// Unwind: the Win64 unwind data of a function, UNWIND_INFO version 1 and its RUNTIME_FUNCTION, so that
// exceptions, debuggers, profilers and RtlCaptureStackBackTrace can walk through JIT code.
//
// derive_unwind reads an Image's machine code: its prolog (pushes of nonvolatile registers, one allocation,
// an optional frame pointer, register and XMM saves) becomes unwind codes, and every other instruction that
// moves RSP must belong to a canonical epilog (add rsp, N or lea rsp, [fp+N]; the pops in reverse; ret or
// jmp). Anything else is refused with the instruction named: unwind data is never written for code it
// would describe wrongly.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "w64stub/core/error.hpp"
#include "w64stub/core/image.hpp"

namespace w64stub {

enum class UnwindOp : uint8_t {
  PushNonvol = 0,
  AllocLarge = 1,
  AllocSmall = 2,
  SetFpreg = 3,
  SaveNonvol = 4,
  SaveNonvolFar = 5,
  SaveXmm128 = 8,
  SaveXmm128Far = 9,
};
std::string_view name(UnwindOp op);

// One prolog operation, as the unwinder sees it.
struct UnwindCode {
  uint8_t prolog_offset = 0;  // the offset of the end of the instruction that did it
  UnwindOp op = UnwindOp::PushNonvol;
  uint8_t reg = 0;            // PushNonvol, SaveNonvol (GP number), SaveXmm128 (XMM number)
  uint32_t value = 0;         // Alloc: bytes; Save*: offset from the frame base (RSP after the prolog)
};

struct UnwindInfo {
  uint8_t prolog_size = 0;
  uint8_t frame_register = 0;  // GP number; 0 when no frame pointer
  uint8_t frame_offset = 0;    // bytes from RSP to the frame pointer (multiple of 16, up to 240)
  std::vector<UnwindCode> codes;  // in prolog order (the encoding reverses them)

  // UNWIND_INFO bytes: header, the codes last-first (1 to 3 slots each, the alloc and save forms chosen by
  // size), padded to an even number of slots.
  std::vector<uint8_t> encode() const;
  static Expected<UnwindInfo> decode(std::span<const uint8_t> bytes);
};

// RUNTIME_FUNCTION: begin, end and UNWIND_INFO as offsets from an image base.
struct RuntimeFunction {
  uint32_t begin = 0, end = 0, unwind_info = 0;
  std::vector<uint8_t> encode() const;
};

// The unwind data of the Image's entry function, or why there is none.
Expected<UnwindInfo> derive_unwind(const Image& image);
// The unwind data of one function (a Code symbol) of a linked Image; prolog offsets count from its start.
Expected<UnwindInfo> derive_unwind(const Image& image, const Symbol& function);

// A listing of the codes beside the prolog instructions that made them.
std::string format_unwind(const Image& image, const UnwindInfo& info);

}  // namespace w64stub
