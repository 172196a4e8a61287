#include "trampolines_p.hpp"

#include <asmjit/x86.h>
#include <fmt/format.h>

#include <algorithm>

namespace w64stub::harness {

namespace x86 = asmjit::x86;

namespace {

// A field of the Outcome at `base`, for the asmjit code that fills it.
x86::Mem at(const x86::Gp& base, size_t offset, uint32_t size = 8) {
  return x86::ptr(base, static_cast<int32_t>(offset), size);
}

x86::Gp gpq(const win64::GpRegister& r) { return x86::gpq(r.id); }

constexpr size_t kPoolPages = 64 << 10;  // address space: only the pages written cost

}  // namespace

Expected<uint64_t> CodePool::add(asmjit::CodeHolder& code, uint64_t near) {
  if (sealed_) return Error{"a sealed code pool takes no more code"};
  if (asmjit::Error err = code.flatten())
    return Error{fmt::format("asmjit flatten: {}", asmjit::DebugUtils::errorAsString(err))};
  if (asmjit::Error err = code.resolveUnresolvedLinks())
    return Error{fmt::format("asmjit links: {}", asmjit::DebugUtils::errorAsString(err))};
  const size_t size = (code.codeSize() + 15) & ~size_t{15};
  uint8_t* at = nullptr;
  if (near) {
    auto own = Mapping::map_after(size, near);
    if (!own) return own.error();
    at = own->data();
    pages_.push_back(std::move(*own));
  } else {
    if (size > left_) {
      auto more = Mapping::map(std::max(size, kPoolPages), Mapping::Place::Anywhere);
      if (!more) return more.error();
      next_ = more->data();
      left_ = more->size();
      pages_.push_back(std::move(*more));
    }
    at = next_;
    next_ += size;
    left_ -= size;
  }
  if (asmjit::Error err = code.relocateToBase(reinterpret_cast<uint64_t>(at)))
    return Error{fmt::format("asmjit relocate: {}", asmjit::DebugUtils::errorAsString(err))};
  code.copyFlattenedData(at, size, asmjit::CopySectionFlags::kPadTargetBuffer);
  return reinterpret_cast<uint64_t>(at);
}

Status CodePool::seal() {
  sealed_ = true;
  for (Mapping& pages : pages_)
    if (auto s = pages.make_executable(); !s) return s;
  return Ok{};
}

Expected<uint64_t> build_callee(CodePool& pool, void* context, uint32_t index, RecordCall record, AnswerCall answer,
                                uint64_t* xmm_args, uint64_t near) {
  asmjit::CodeHolder code;
  code.init(asmjit::Environment(asmjit::Arch::kX64));
  x86::Assembler a(&code);
  asmjit::Label xmm_poison = a.newLabel();
  a.mov(x86::rax, asmjit::Imm(reinterpret_cast<uint64_t>(xmm_args)));
  for (uint32_t i = 0; i < win64::kFloatArguments; ++i) a.movq(x86::qword_ptr(x86::rax, static_cast<int32_t>(8 * i)), x86::xmm(i));
  a.push(x86::rbp);
  a.mov(x86::rbp, x86::rsp);  // rbp = entry RSP - 8: [rbp+8] return address, [rbp+16, rbp+48) home area
  a.and_(x86::rsp, -16);      // realign: a misaligned caller is recorded, not crashed
  a.sub(x86::rsp, 64);
  a.lea(x86::rax, x86::qword_ptr(x86::rbp, 8));
  a.mov(x86::qword_ptr(x86::rsp, win64::call_slot(4)), x86::rax);
  a.mov(x86::rax, asmjit::Imm(reinterpret_cast<uint64_t>(context)));
  a.mov(x86::qword_ptr(x86::rsp, win64::call_slot(5)), x86::rax);
  a.mov(x86::qword_ptr(x86::rsp, win64::call_slot(6)), asmjit::Imm(index));
  a.mov(x86::rax, asmjit::Imm(reinterpret_cast<uint64_t>(record)));
  a.call(x86::rax);
  for (int offset = 0; offset < win64::kHomeArea; offset += win64::kSlot) {
    a.mov(x86::rax, asmjit::Imm(kHomeAreaPoison + static_cast<uint64_t>(offset)));
    a.mov(x86::qword_ptr(x86::rbp, 16 + offset), x86::rax);
  }
  a.mov(gpq(win64::kIntegerArguments[0]), asmjit::Imm(reinterpret_cast<uint64_t>(context)));
  a.mov(x86::rax, asmjit::Imm(reinterpret_cast<uint64_t>(answer)));
  a.call(x86::rax);
  for (const win64::GpRegister& r : win64::kVolatileGps)
    if (r.id != x86::Gp::kIdAx) a.mov(gpq(r), asmjit::Imm(kVolatilePoison + r.id));
  for (uint32_t i = 0; i < win64::kVolatileXmms; ++i)
    a.movups(x86::xmm(i), x86::ptr(xmm_poison, static_cast<int32_t>(16 * i)));
  a.mov(x86::rsp, x86::rbp);
  a.pop(x86::rbp);
  a.ret();
  a.align(asmjit::AlignMode::kData, 16);
  a.bind(xmm_poison);
  for (uint64_t i = 0; i < win64::kVolatileXmms; ++i) a.embedUInt64(kXmmPoison + i, 2);
  return pool.add(code, near);
}

Expected<uint64_t> build_caller(CodePool& pool, Outcome* out, uint64_t stub, int entry_residue,
                                const win64::Signature* signature) {
  asmjit::CodeHolder code;
  code.init(asmjit::Environment(asmjit::Arch::kX64));
  x86::Assembler a(&code);
  asmjit::Label canary_pool = a.newLabel();
  const Nonvolatiles canary = canaries();
  const x86::Gp sysv_saved[] = {x86::rbp, x86::rbx, x86::r12, x86::r13, x86::r14, x86::r15};
  const x86::Gp outcome = x86::r11;
  for (const x86::Gp& r : sysv_saved) a.push(r);
  a.mov(outcome, asmjit::Imm(reinterpret_cast<uint64_t>(out)));
  a.mov(at(outcome, offsetof(Outcome, host_rsp)), x86::rsp);
  a.stmxcsr(at(outcome, offsetof(Outcome, mxcsr_host), 4));
  a.and_(x86::rsp, -16);
  // [RSP, RSP+32): the stub's own home area; then its stack arguments, if it declares any; then the marker in
  // the caller's frame. CALL pushes 8, so the stub enters at 8 (mod 16) unless we step down 8 more.
  const int32_t stack_args = signature ? (signature->stack_bytes() + 15) / 16 * 16 : 0;
  const int32_t marker = win64::kHomeArea + stack_args;
  out->marker_offset = static_cast<uint32_t>(marker);
  const int step = (16 + win64::kEntryResidue - entry_residue % 16) % 16;
  a.sub(x86::rsp, marker + 8 * kMarkerWords + step);
  for (int i = 0; i < kMarkerWords; ++i) {
    a.mov(x86::rax, asmjit::Imm(marker_word(i)));
    a.mov(x86::qword_ptr(x86::rsp, marker + 8 * i), x86::rax);
  }
  for (size_t i = 0; i < std::size(win64::kNonvolatileGps); ++i)
    a.mov(gpq(win64::kNonvolatileGps[i]), asmjit::Imm(canary.gp[i]));
  for (uint32_t j = 0; j < win64::kNonvolatileXmms; ++j)
    a.movups(x86::xmm(win64::kFirstNonvolatileXmm + j), x86::ptr(canary_pool, static_cast<int32_t>(16 * j)));
  a.ldmxcsr(x86::dword_ptr(canary_pool, 16 * win64::kNonvolatileXmms));
  for (int i = 0; signature && i < signature->count(); ++i) {
    a.mov(x86::rax, asmjit::Imm(argument_canary(i)));
    if (i >= win64::kRegisterArguments) a.mov(x86::qword_ptr(x86::rsp, win64::call_slot(i)), x86::rax);
    else if (win64::is_float(signature->params[static_cast<size_t>(i)].type)) a.movq(x86::xmm(static_cast<uint32_t>(i)), x86::rax);
  }
  for (int i = 0; signature && i < std::min(signature->count(), win64::kRegisterArguments); ++i)
    if (!win64::is_float(signature->params[static_cast<size_t>(i)].type))
      a.mov(gpq(win64::kIntegerArguments[i]), asmjit::Imm(argument_canary(i)));
  a.mov(at(outcome, offsetof(Outcome, rsp_before_call)), x86::rsp);
  a.cld();
  a.mov(x86::rax, asmjit::Imm(stub));
  a.call(x86::rax);

  // Back from the stub: only RAX and R11 (volatile) are touched until everything is recorded.
  a.mov(outcome, asmjit::Imm(reinterpret_cast<uint64_t>(out)));
  a.mov(at(outcome, offsetof(Outcome, rax_after)), x86::rax);
  a.mov(at(outcome, offsetof(Outcome, rsp_after_return)), x86::rsp);
  for (size_t i = 0; i < std::size(win64::kNonvolatileGps); ++i)
    a.mov(at(outcome, offsetof(Outcome, gp_after) + 8 * i), gpq(win64::kNonvolatileGps[i]));
  for (uint32_t j = 0; j < win64::kNonvolatileXmms; ++j)
    a.movups(at(outcome, offsetof(Outcome, xmm_after) + 16 * j, 16), x86::xmm(win64::kFirstNonvolatileXmm + j));
  a.stmxcsr(at(outcome, offsetof(Outcome, mxcsr_after), 4));
  a.mov(x86::rax, at(outcome, offsetof(Outcome, rsp_before_call)));
  for (int i = 0; i < kMarkerWords; ++i) {
    a.mov(x86::rcx, x86::qword_ptr(x86::rax, marker + 8 * i));
    a.mov(at(outcome, offsetof(Outcome, caller_frame) + 8 * static_cast<size_t>(i)), x86::rcx);
  }
  a.mov(x86::rsp, at(outcome, offsetof(Outcome, host_rsp)));  // whatever the stub did to RSP
  a.pushfq();
  a.pop(x86::rax);
  a.mov(at(outcome, offsetof(Outcome, rflags_after)), x86::rax);
  a.mov(at(outcome, offsetof(Outcome, returned), 1), 1);
  a.cld();
  a.ldmxcsr(at(outcome, offsetof(Outcome, mxcsr_host), 4));
  for (auto it = std::rbegin(sysv_saved); it != std::rend(sysv_saved); ++it) a.pop(*it);
  a.ret();
  a.align(asmjit::AlignMode::kData, 16);
  a.bind(canary_pool);
  for (const Xmm& x : canary.xmm) a.embedUInt64(x[0]), a.embedUInt64(x[1]);
  a.embedUInt32(canary.mxcsr);
  return pool.add(code);
}

}  // namespace w64stub::harness
