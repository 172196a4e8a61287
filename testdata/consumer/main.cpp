// A JIT author's program against the installed w64stub: the README's worked example, a thunk that takes six
// integers and calls an import with seven, its frame planned by w64stub; called natively, probed, and run
// under Wine with Windows' unwinder checked at every instruction. Exit 0 only if all is right.
#include <w64stub/w64stub.hpp>

#include <cstdio>

namespace x86 = asmjit::x86;
using namespace w64stub;

int64_t sum7(int64_t a, int64_t b, int64_t c, int64_t d, int64_t e, int64_t f, int64_t g) {
  return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g;
}

// thunk(a, b, c, d, e, f) = sum7(a, b, c, d, e, f, 7)
Program make_thunk() {
  const FramePlan plan = *plan_frame({.call_args = 7});
  Program p;
  p.symbol = "thunk";
  p.imports = {{"sum7", "winrun.exe", "w64stub_sum7", "a:i64,b:i64,c:i64,d:i64,e:i64,f:i64,g:i64->i64"}};
  auto add = [&](asmjit::InstId id, std::vector<Operand> ops) { p.instrs.push_back({id, std::move(ops)}); };
  auto stack = [](int32_t offset) { return x86::qword_ptr(x86::rsp, offset); };
  plan.prolog(p);
  for (int i : {4, 5}) {  // RCX, RDX, R8, R9 pass through; e and f go from our stack slots to the callee's
    add(x86::Inst::kIdMov, {x86::rax, stack(plan.argument(i).slot.rsp)});
    add(x86::Inst::kIdMov, {stack(win64::call_slot(i)), x86::rax});
  }
  add(x86::Inst::kIdMov, {stack(win64::call_slot(6)), asmjit::Imm(7)});
  add(x86::Inst::kIdMov, {x86::rax, SymbolMem{"sum7", 0, 8}});
  add(x86::Inst::kIdCall, {x86::rax});
  plan.epilog(p);
  return p;
}

__attribute__((ms_abi)) int64_t host_sum7(int64_t a, int64_t b, int64_t c, int64_t d, int64_t e, int64_t f, int64_t g) {
  return sum7(a, b, c, d, e, f, g);
}

int main() {
  auto image = emit(make_thunk(), {.model = Model::Rip});
  if (!image) return std::puts(image.error().message.c_str()), 1;
  const int64_t want = sum7(1, 2, 3, 4, 5, 6, 7);

  // Natively, as a JIT calls it.
  const Binding bindings[] = {{"w64stub_sum7", reinterpret_cast<const void*>(&host_sum7)}};
  auto instance = instantiate(*image, bindings);
  if (!instance) return std::puts(instance.error().message.c_str()), 1;
  using Thunk = __attribute__((ms_abi)) int64_t (*)(int64_t, int64_t, int64_t, int64_t, int64_t, int64_t);
  const int64_t native = reinterpret_cast<Thunk>(instance->text_address())(1, 2, 3, 4, 5, 6);

  // Under the probe, the import answered by a stand-in that declares its seven arguments.
  const StandIn stand_in{"winrun.exe", "w64stub_sum7", *win64::parse_signature("i64,i64,i64,i64,i64,i64,i64->i64"),
                         [](StandInContext&, std::span<const uint64_t> a) -> uint64_t {
                           return a[0] + 2 * a[1] + 3 * a[2] + 4 * a[3] + 5 * a[4] + 6 * a[5] + 7 * a[6];
                         },
                         {}};
  auto probed = probe(*image, {.standins = {&stand_in, 1}});
  if (!probed) return std::puts(probed.error().message.c_str()), 1;

  // Under Wine: winrun.exe exports w64stub_sum7; the unwinder is asked at every instruction boundary.
  auto wine = find_wine();
  if (!wine) return std::puts(wine.error().message.c_str()), 1;
  auto runs = run_wine({&*image, 1}, *wine, {.unwind_check = true, .args = {1, 2, 3, 4, 5, 6}});
  if (!runs || !runs->front()) return std::puts(runs ? runs->front().error().message.c_str() : runs.error().message.c_str()), 1;
  const RunReport& under_wine = *runs->front();

  const bool ok = native == want && probed->conformant() && under_wine.value == static_cast<uint64_t>(want) &&
                  under_wine.unwind_checked > 0 && under_wine.unwind_failures.empty();
  std::printf("consumer: native %lld, probe %s, wine %llu with %d boundaries unwound: %s\n", static_cast<long long>(native),
              probed->conformant() ? "conformant" : "NOT conformant", static_cast<unsigned long long>(under_wine.value),
              under_wine.unwind_checked, ok ? "ok" : "unexpected result");
  return ok ? 0 : 1;
}
