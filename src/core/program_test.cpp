#include "w64stub/core/program.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace w64stub;

TEST_CASE("short symbol names drop the runtime package") {
  CHECK(short_symbol_name("runtime·WriteFile") == "WriteFile");
  CHECK(short_symbol_name("runtime.WriteFile") == "WriteFile");
  CHECK(short_symbol_name("main·f") == "main·f");
  CHECK(bare_symbol_name("main·f") == "f");
  CHECK(bare_symbol_name("·f") == "f");
  CHECK(bare_symbol_name("math.Sqrt") == "Sqrt");
  CHECK(bare_symbol_name("f") == "f");
}

TEST_CASE("symbol lookups and source lines") {
  Program p;
  p.symbol = "t";
  p.imports = {{"runtime·WriteFile", "kernel32.dll", "WriteFile"}};
  p.data = {{"msg", {'h', 0}, 1}};
  p.source_lines = {"TEXT t(SB),7,$0"};
  CHECK(p.find_import("runtime·WriteFile")->function == "WriteFile");
  CHECK(p.find_data("msg")->bytes.size() == 2);
  CHECK(p.find_data("runtime·WriteFile") == nullptr);
  CHECK(p.source_line(1) == "TEXT t(SB),7,$0");
  CHECK(p.source_line(0).empty());
  CHECK(p.source_line(2).empty());
  p.instrs = {{asmjit::x86::Inst::kIdMov, {asmjit::x86::rax, SymbolAddr{"nothing", 0}}, {"t.s", 3, 9}}};
  CHECK(p.check_symbols().error().message == "t.s:3:9: symbol nothing is neither an import, data nor an external of t");
}

TEST_CASE("labels: bound once, every one referenced is defined") {
  namespace x86 = asmjit::x86;
  Program p;
  p.symbol = "t";
  p.instrs = {Instr::bind("top", {"t.s", 1, 1}), {x86::Inst::kIdJmp, {CodeLabel{"top"}}, {"t.s", 2, 2}}};
  CHECK(p.check_symbols().ok());
  CHECK(p.instrs[0].bound_label()->name == "top");
  CHECK(p.instrs[1].bound_label() == nullptr);
  p.instrs.push_back({x86::Inst::kIdJne, {CodeLabel{"nowhere"}}, {"t.s", 3, 2}});
  CHECK(p.check_symbols().error().message == "t.s:3:2: label nowhere is never defined in t");
  p.instrs.back() = Instr::bind("top", {"t.s", 3, 1});
  CHECK(p.check_symbols().error().message == "t.s:3:1: label top is already defined at t.s:1:1");
}

TEST_CASE("labels: the first one bound again, in program order, is the one reported") {
  namespace x86 = asmjit::x86;
  Program p;
  p.symbol = "t";
  // b is bound again before a is, though a sorts first; a third binding of b is not the one reported.
  p.instrs = {Instr::bind("b", {"t.s", 1, 1}), Instr::bind("a", {"t.s", 2, 1}), Instr::bind("b", {"t.s", 3, 1}),
              Instr::bind("a", {"t.s", 4, 1}), Instr::bind("b", {"t.s", 5, 1})};
  CHECK(p.check_symbols().error().message == "t.s:3:1: label b is already defined at t.s:1:1");
  p.instrs.erase(p.instrs.begin() + 2);  // now a's second binding comes first
  CHECK(p.check_symbols().error().message == "t.s:4:1: label a is already defined at t.s:2:1");

  // A linked Program: a label may not take a function's name; two functions of one name are declared twice.
  Program linked;
  linked.symbol = "f";
  linked.loc = {"t.s", 6, 1};
  linked.functions = {{"f", 0, 0, {}}, {"g", 1, 0, {}}};
  linked.instrs = {{x86::Inst::kIdRet, {}}, Instr::bind("g", {"t.s", 7, 1}), {x86::Inst::kIdRet, {}}};
  CHECK(linked.check_symbols().error().message == "t.s:7:1: label g is already defined as a function");
  linked.instrs[1] = Instr::bind("h", {"t.s", 7, 1});
  CHECK(linked.check_symbols().ok());
  linked.functions.push_back({"g", 2, 0, {}});
  CHECK(linked.check_symbols().error().message == "t.s:6:1: g is declared twice (as an import, data, external or function) in f");

  // Many labels (past those a stub keeps in place): each found, a missing one named.
  Program many;
  many.symbol = "t";
  for (int k = 0; k < 40; ++k) many.instrs.push_back(Instr::bind(fmt::format("l{}", k), {"t.s", k + 1, 1}));
  for (int k = 39; k >= 0; --k) many.instrs.push_back({x86::Inst::kIdJmp, {CodeLabel{fmt::format("l{}", k)}}, {"t.s", 100, 1}});
  CHECK(many.check_symbols().ok());
  many.instrs.push_back({x86::Inst::kIdJmp, {CodeLabel{"l40"}}, {"t.s", 101, 2}});
  CHECK(many.check_symbols().error().message == "t.s:101:2: label l40 is never defined in t");
}

TEST_CASE("an asmjit Builder's instructions and labels become Program instructions") {
  namespace x86 = asmjit::x86;
  asmjit::CodeHolder code;
  code.init(asmjit::Environment(asmjit::Arch::kX64));
  x86::Builder b(&code);
  asmjit::Label loop = b.newLabel();
  b.bind(loop);
  b.dec(x86::ecx);
  b.jnz(loop);
  Program p;
  p.symbol = "t";
  REQUIRE(append_builder(p, b, {"builder", 0, 0}).ok());
  REQUIRE(p.instrs.size() == 3);
  CHECK(p.instrs[0].bound_label()->name == "L0");
  CHECK(p.instrs[1].id == x86::Inst::kIdDec);
  CHECK(std::get<asmjit::Operand>(p.instrs[1].operands[0]).as<x86::Gp>() == x86::ecx);
  CHECK(p.instrs[2].id == x86::Inst::kIdJnz);
  CHECK(std::get<CodeLabel>(p.instrs[2].operands[0]).name == "L0");
  CHECK(p.check_symbols().ok());
}
