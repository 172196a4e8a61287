// The README's worked example, for the tests: a thunk that takes six integers and calls an import with seven
// (three of them on the stack), its frame planned by plan_frame.
#pragma once

#include "w64stub/w64stub.hpp"

namespace w64stub::test {

// The import: winrun.exe exports it under Wine; natively a stand-in or a host function answers.
inline const char* const kSum7Signature = "a:i64,b:i64,c:i64,d:i64,e:i64,f:i64,g:i64->i64";
// Wrapping, as the machine adds: the probe passes canaries that overflow a signed sum.
inline int64_t sum7(int64_t a, int64_t b, int64_t c, int64_t d, int64_t e, int64_t f, int64_t g) {
  const uint64_t v[] = {uint64_t(a), uint64_t(b), uint64_t(c), uint64_t(d), uint64_t(e), uint64_t(f), uint64_t(g)};
  uint64_t sum = 0;
  for (uint64_t i = 0; i < 7; ++i) sum += (i + 1) * v[i];
  return static_cast<int64_t>(sum);
}

// thunk(a, b, c, d, e, f) = sum7(a, b, c, d, e, f, 7)
inline Program make_thunk() {
  namespace x86 = asmjit::x86;
  const FramePlan plan = *plan_frame({.call_args = 7});
  Program p;
  p.symbol = "thunk";
  p.imports = {{"sum7", "winrun.exe", "w64stub_sum7", kSum7Signature}};
  auto add = [&](asmjit::InstId id, std::vector<Operand> ops) { p.instrs.push_back({id, std::move(ops)}); };
  auto stack = [](int32_t offset) { return x86::qword_ptr(x86::rsp, offset); };
  plan.prolog(p);
  // RCX, RDX, R8 and R9 pass straight through; e and f move from the thunk's stack slots to the callee's.
  for (int i : {4, 5}) {
    add(x86::Inst::kIdMov, {x86::rax, stack(plan.argument(i).slot.rsp)});
    add(x86::Inst::kIdMov, {stack(win64::call_slot(i)), x86::rax});
  }
  add(x86::Inst::kIdMov, {stack(win64::call_slot(6)), asmjit::Imm(7)});
  add(x86::Inst::kIdMov, {x86::rax, SymbolMem{"sum7", 0, 8}});
  add(x86::Inst::kIdCall, {x86::rax});
  plan.epilog(p);
  return p;
}

}  // namespace w64stub::test
