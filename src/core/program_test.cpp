#include "w64stub/core/program.hpp"

#include <doctest/doctest.h>

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
