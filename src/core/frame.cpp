#include "w64stub/core/frame.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <map>
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

  // Follow every path from the entry: RSP's depth below entry must be the same wherever paths meet.
  std::map<std::string, size_t> labels;
  for (size_t i = 0; i < program.instrs.size(); ++i)
    if (const CodeLabel* l = program.instrs[i].bound_label()) labels[l->name] = i;
  struct Path {
    size_t at;
    int32_t body;               // the part of the depth the body adjusted itself
    std::set<int32_t> stored;   // [RSP+k] written since the last call
  };
  std::vector<std::optional<int32_t>> seen(program.instrs.size());
  std::vector<Path> work = {{0, 0, {}}};
  bool indirect_noted = false;

  while (!work.empty()) {
    Path path = std::move(work.back());
    work.pop_back();
    for (bool going = true; going && path.at < program.instrs.size();) {
      const size_t i = path.at++;
      const Instr& instr = program.instrs[i];
      if (seen[i]) {
        if (*seen[i] != path.body)
          frame.notes.push_back(fmt::format("{}: reached with RSP {} and {} bytes below entry on different paths",
                                            instr.loc.str(), *seen[i] + frame.declared, path.body + frame.declared));
        break;
      }
      seen[i] = path.body;
      const asmjit::Operand* dst = plain(instr, 0);
      const asmjit::Operand* src = plain(instr, 1);
      const int32_t depth = frame.declared + path.body;
      auto adjust = [&](int32_t delta) {
        path.body += delta;
        frame.explicit_adjust = std::max(frame.explicit_adjust, path.body);
      };
      const CodeLabel* target = !instr.bound_label() && !instr.operands.empty()
                                    ? std::get_if<CodeLabel>(&instr.operands[0]) : nullptr;
      switch (instr.id) {
        case x86::Inst::kIdSub:
        case x86::Inst::kIdAdd:
          if (is_rsp(dst)) {
            if (!src || !src->isImm()) {
              frame.notes.push_back(fmt::format("{}: RSP adjusted by a non-constant; this path is not followed further",
                                                instr.loc.str()));
              going = false;
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
          while (path.stored.count(kShadowSpace + 8 * args)) ++args;
          frame.stack_args = std::max(frame.stack_args, args);
          path.stored.clear();
          break;
        }
        case x86::Inst::kIdRet:
          if (path.body != 0) {
            frame.balanced = false;
            frame.notes.push_back(fmt::format("{}: RET with RSP {} bytes {} its entry value", instr.loc.str(),
                                              std::abs(path.body), path.body > 0 ? "below" : "above"));
          }
          going = false;
          break;
        default:
          if (target) {
            auto to = labels.find(target->name);
            if (to != labels.end()) {
              if (instr.id == x86::Inst::kIdJmp) path.at = to->second;
              else work.push_back({to->second, path.body, path.stored});
            }
          } else if (instr.id == x86::Inst::kIdJmp) {
            if (!indirect_noted)
              frame.notes.push_back(fmt::format("{}: an indirect jump; its targets are not followed", instr.loc.str()));
            indirect_noted = true;
            going = false;
          } else if (is_rsp(dst)) {
            frame.notes.push_back(fmt::format("{}: RSP written by an instruction the analysis does not follow; "
                                              "this path is not followed further", instr.loc.str()));
            going = false;
          }
          break;
      }
      if (auto k = rsp_store(instr)) path.stored.insert(*k);
    }
  }
  std::sort(frame.calls.begin(), frame.calls.end(), [](const CallSite& a, const CallSite& b) { return a.instr < b.instr; });

  frame.locals = std::max(0, frame.total() - frame.shadow - 8 * frame.stack_args);
  if (!frame.calls.empty() && frame.total() < frame.shadow + 8 * frame.stack_args)
    frame.notes.push_back(fmt::format("frame of {} bytes is smaller than the home area and {} stack argument(s) "
                                      "its calls need", frame.total(), frame.stack_args));
  return frame;
}

}  // namespace w64stub
