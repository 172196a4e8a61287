#include "w64stub/program.hpp"

#include <doctest/doctest.h>

using namespace w64stub;

TEST_CASE("short symbol names drop the runtime package") {
  CHECK(short_symbol_name("runtime·WriteFile") == "WriteFile");
  CHECK(short_symbol_name("runtime.WriteFile") == "WriteFile");
  CHECK(short_symbol_name("main·f") == "main·f");
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
  CHECK(p.check_symbols().error().message == "t.s:3:9: symbol nothing is neither an import nor data of t");
}
