#include "w64stub/core/frame_plan.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace w64stub {

namespace x86 = asmjit::x86;

namespace {

constexpr int32_t kPage = 4096;
constexpr int32_t kMaxFrameOffset = 240;  // UNWIND_INFO's FrameOffset: 0-15, scaled by 16

int32_t align_up(int32_t v, int32_t a) { return (v + a - 1) / a * a; }

void add(Program& p, asmjit::InstId id, std::vector<Operand> ops, const SourceLoc& loc) {
  p.instrs.push_back(Instr{id, std::move(ops), loc});
}

}  // namespace

Expected<FramePlan> plan_frame(const FrameRequest& r) {
  FramePlan plan;
  for (const x86::Gp& g : r.saved) {
    if (!win64::is_nonvolatile_gp(g.id())) return Error{fmt::format("frame plan: {} is volatile; only nonvolatile registers are saved", win64::gp_name(g.id()))};
    if (std::find(plan.pushes.begin(), plan.pushes.end(), g.r64()) == plan.pushes.end()) plan.pushes.push_back(g.r64());
  }
  if (r.frame_pointer && std::find(plan.pushes.begin(), plan.pushes.end(), x86::rbp) == plan.pushes.end())
    plan.pushes.push_back(x86::rbp);
  for (const x86::Xmm& x : r.saved_xmm) {
    if (x.id() < static_cast<uint32_t>(win64::kFirstNonvolatileXmm))
      return Error{fmt::format("frame plan: xmm{} is volatile; only XMM6-XMM15 are saved", x.id())};
    if (std::find(plan.xmm_saves.begin(), plan.xmm_saves.end(), x) == plan.xmm_saves.end()) plan.xmm_saves.push_back(x);
  }
  if (r.locals < 0 || r.call_args > 255) return Error{"frame plan: locals must be >= 0 and call_args at most 255"};
  plan.outgoing = r.call_args < 0 ? 0 : win64::kHomeArea + win64::kSlot * std::max(0, r.call_args - win64::kRegisterArguments);
  plan.locals_offset = plan.outgoing;
  plan.locals = align_up(r.locals, win64::kSlot);
  plan.xmm_offset = align_up(plan.locals_offset + plan.locals, 16);
  const int32_t end = plan.xmm_saves.empty() ? plan.locals_offset + plan.locals
                                             : plan.xmm_offset + 16 * static_cast<int32_t>(plan.xmm_saves.size());
  // RSP after the prolog is 16-byte aligned: entry (8 mod 16) less the pushes and the allocation.
  plan.allocation = end;
  while ((win64::kSlot + win64::kSlot * static_cast<int32_t>(plan.pushes.size()) + plan.allocation) % 16) plan.allocation += 8;
  if (plan.allocation > kPage)
    return Error{fmt::format("frame plan: {} bytes below the pushes need stack probes (__chkstk), which plans do not "
                             "emit; keep a frame within {} bytes", plan.allocation, kPage)};
  if (r.frame_pointer) {
    plan.frame_pointer = true;
    plan.fp_offset = std::min(plan.locals_offset / 16 * 16, kMaxFrameOffset);
  }
  return plan;
}

Expected<FramePlan> plan_frame(const asmjit::FuncFrame& f) {
  if (f.hasDynamicAlignment())
    return Error{"frame plan: asmjit's dynamic stack alignment (and rsp, -N) cannot be described by Win64 unwind data"};
  FramePlan plan;
  plan.fp_first = plan.frame_pointer = f.hasPreservedFP();
  if (plan.fp_first) plan.pushes.push_back(x86::rbp);
  for (uint32_t mask = f.savedRegs(asmjit::RegGroup::kGp), id = 0; mask; mask >>= 1, ++id)
    if ((mask & 1) && !(plan.fp_first && id == x86::Gp::kIdBp)) plan.pushes.push_back(x86::gpq(id));
  for (uint32_t mask = f.savedRegs(asmjit::RegGroup::kVec), id = 0; mask; mask >>= 1, ++id)
    if (mask & 1) plan.xmm_saves.push_back(x86::xmm(id));
  plan.allocation = static_cast<int32_t>(f.stackAdjustment());
  plan.outgoing = static_cast<int32_t>(f.callStackSize());
  plan.locals_offset = static_cast<int32_t>(f.localStackOffset());
  plan.locals = static_cast<int32_t>(f.localStackSize());
  plan.xmm_offset = static_cast<int32_t>(f.extraRegSaveOffset());
  plan.xmm_aligned = f.finalStackAlignment() >= 16;
  return plan;
}

ArgumentLocation FramePlan::argument(int index, bool floating) const {
  ArgumentLocation at;
  if (index < win64::kRegisterArguments)
    at.reg = floating ? asmjit::x86::Reg(x86::xmm(static_cast<uint32_t>(index)))
                      : asmjit::x86::Reg(x86::gpq(win64::kIntegerArguments[index].id));
  at.slot.rsp = depth() + win64::entry_slot(index);
  if (frame_pointer) at.slot.fp = at.slot.rsp - fp_offset - (fp_first ? depth() - win64::kSlot : 0);
  return at;
}

StackSlot FramePlan::local(int32_t offset) const {
  StackSlot s{locals_offset + offset, std::nullopt};
  if (frame_pointer) s.fp = s.rsp - fp_offset - (fp_first ? depth() - win64::kSlot : 0);
  return s;
}

void FramePlan::prolog(Program& p, const SourceLoc& loc) const {
  namespace I = x86::Inst;
  for (size_t i = 0; i < pushes.size(); ++i) {
    add(p, I::kIdPush, {pushes[i]}, loc);
    if (fp_first && i == 0) add(p, I::kIdMov, {x86::rbp, x86::rsp}, loc);
  }
  if (allocation) add(p, I::kIdSub, {x86::rsp, asmjit::Imm(allocation)}, loc);
  if (frame_pointer && !fp_first) add(p, I::kIdLea, {x86::rbp, x86::ptr(x86::rsp, fp_offset)}, loc);
  for (size_t i = 0; i < xmm_saves.size(); ++i)
    add(p, xmm_aligned ? I::kIdMovaps : I::kIdMovups,
        {x86::xmmword_ptr(x86::rsp, xmm_offset + 16 * static_cast<int32_t>(i)), xmm_saves[i]}, loc);
}

void FramePlan::epilog(Program& p, const SourceLoc& loc) const {
  namespace I = x86::Inst;
  for (size_t i = 0; i < xmm_saves.size(); ++i)
    add(p, xmm_aligned ? I::kIdMovaps : I::kIdMovups,
        {xmm_saves[i], x86::xmmword_ptr(x86::rsp, xmm_offset + 16 * static_cast<int32_t>(i))}, loc);
  if (fp_first) {
    // asmjit's: RSP back to just below the pushes made after RBP, from RBP.
    add(p, I::kIdLea, {x86::rsp, x86::ptr(x86::rbp, -win64::kSlot * static_cast<int32_t>(pushes.size() - 1))}, loc);
  } else if (allocation) {
    add(p, I::kIdAdd, {x86::rsp, asmjit::Imm(allocation)}, loc);
  }
  for (auto it = pushes.rbegin(); it != pushes.rend(); ++it) add(p, I::kIdPop, {*it}, loc);
  add(p, I::kIdRet, {}, loc);
}

}  // namespace w64stub
