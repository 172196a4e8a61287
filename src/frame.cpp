#include "w64stub/frame.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <set>

namespace w64stub {
namespace x86 = asmjit::x86;

int32_t plan_frame_adjustment(const FrameNeeds& needs) {
  int32_t size = kShadowSpace + 8 * needs.stack_args + needs.locals;
  // RSP at the call = entry - pushes - size must be 0 mod 16, with entry = 8 mod 16.
  int32_t below_entry = 8 * needs.pushes + size;
  int32_t misfit = ((below_entry - kWin64EntryResidue) % 16 + 16) % 16;
  return misfit ? size + (16 - misfit) : size;
}

bool Frame::calls_aligned() const {
  return std::all_of(calls.begin(), calls.end(), [](const CallSite& c) { return c.aligned(); });
}

namespace {

bool is_rsp(const asmjit::Operand* op) { return op && op->isReg() && op->as<x86::Gp>() == x86::rsp; }

const asmjit::Operand* plain(const Instr& instr, size_t i) {
  if (i >= instr.operands.size()) return nullptr;
  return std::get_if<asmjit::Operand>(&instr.operands[i]);
}

// The RSP-relative offset an instruction stores 8 bytes to, if any.
std::optional<int32_t> rsp_store(const Instr& instr) {
  if (instr.id != x86::Inst::kIdMov) return std::nullopt;
  const asmjit::Operand* dst = plain(instr, 0);
  if (!dst || !dst->isMem()) return std::nullopt;
  const x86::Mem& mem = dst->as<x86::Mem>();
  if (!mem.hasBaseReg() || mem.hasIndex() || mem.baseId() != x86::Gp::kIdSp) return std::nullopt;
  return mem.offsetLo32();
}

}  // namespace

Frame analyze_frame(const Program& program, int entry_residue) {
  Frame frame;
  frame.declared = program.declared_frame;
  frame.entry_residue = entry_residue;

  int32_t depth = program.declared_frame;  // bytes below entry RSP
  int32_t body_depth = 0;                  // the part the body adjusted itself
  std::set<int32_t> stored;                // [RSP+k] written since the last call
  bool known = true;
  bool branch_noted = false;

  for (size_t i = 0; i < program.instrs.size() && known; ++i) {
    const Instr& instr = program.instrs[i];
    const asmjit::Operand* dst = plain(instr, 0);
    const asmjit::Operand* src = plain(instr, 1);
    auto adjust = [&](int32_t delta) {
      depth += delta;
      body_depth += delta;
      frame.explicit_adjust = std::max(frame.explicit_adjust, body_depth);
    };
    switch (instr.id) {
      case x86::Inst::kIdSub:
      case x86::Inst::kIdAdd:
        if (is_rsp(dst)) {
          if (!src || !src->isImm()) {
            frame.notes.push_back(fmt::format("{}: RSP adjusted by a non-constant; analysis stops", instr.loc.str()));
            known = false;
            break;
          }
          auto amount = static_cast<int32_t>(src->as<asmjit::Imm>().value());
          adjust(instr.id == x86::Inst::kIdSub ? amount : -amount);
        }
        break;
      case x86::Inst::kIdPush:
      case x86::Inst::kIdPushfq:
        adjust(8);
        break;
      case x86::Inst::kIdPop:
      case x86::Inst::kIdPopfq:
        adjust(-8);
        break;
      case x86::Inst::kIdCall: {
        CallSite site;
        site.instr = i;
        site.depth = depth;
        site.residue = ((entry_residue - depth) % 16 + 16) % 16;
        site.loc = instr.loc;
        frame.calls.push_back(site);
        frame.shadow = kShadowSpace;
        int32_t args = 0;
        while (stored.count(kShadowSpace + 8 * args)) ++args;
        frame.stack_args = std::max(frame.stack_args, args);
        stored.clear();
        break;
      }
      case x86::Inst::kIdRet:
        if (body_depth != 0) {
          frame.balanced = false;
          frame.notes.push_back(fmt::format("{}: RET with RSP {} bytes {} its entry value", instr.loc.str(),
                                            std::abs(body_depth), body_depth > 0 ? "below" : "above"));
        }
        break;
      default:
        if (!branch_noted && !instr.bound_label() && !instr.operands.empty() &&
            std::holds_alternative<CodeLabel>(instr.operands[0])) {
          frame.notes.push_back(fmt::format("{}: a branch; the analysis reads the text in order and does not follow "
                                            "it", instr.loc.str()));
          branch_noted = true;
        }
        if (is_rsp(dst)) {
          frame.notes.push_back(fmt::format("{}: RSP written by an instruction the analysis does not follow; "
                                            "analysis stops", instr.loc.str()));
          known = false;
        }
        break;
    }
    if (auto k = rsp_store(instr)) stored.insert(*k);
  }

  frame.locals = std::max(0, frame.total() - frame.shadow - 8 * frame.stack_args);
  if (!frame.calls.empty() && frame.total() < frame.shadow + 8 * frame.stack_args)
    frame.notes.push_back(fmt::format("frame of {} bytes is smaller than the home area and {} stack argument(s) "
                                      "its calls need", frame.total(), frame.stack_args));
  return frame;
}

}  // namespace w64stub
