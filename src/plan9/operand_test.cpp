#include "operand_p.hpp"

#include <doctest/doctest.h>

#include <deque>

using namespace w64stub;
using namespace w64stub::plan9;

namespace {

Expected<Preprocessed> lex(const std::string& text) {
  return preprocess("t.s", {{}, [text](const std::string&) -> std::optional<std::string> { return text; }});
}

// An Arg views its tokens (its name, its text): every lexed file stays for the test run.
Expected<Arg> arg(const std::string& text) {
  static std::deque<Preprocessed> kept;
  auto p = lex(text);
  if (!p) return p.error();
  const auto& t = kept.emplace_back(std::move(*p)).statements.at(0).tokens;
  return parse_arg(t, 0, t.size());
}

Expected<int64_t> value(const std::string& text) {
  auto p = lex(text);
  if (!p) return p.error();
  const auto& t = p->statements.at(0).tokens;
  return evaluate(t, 0, t.size());
}

}  // namespace

TEST_CASE("expressions: Go's two precedence levels, unary operators, parentheses") {
  CHECK(*value("1+2*3") == 7);
  CHECK(*value("(1+2)*3") == 9);
  CHECK(*value("1|2<<3") == 17);   // << binds like *
  CHECK(*value("-8+~0") == -9);
  CHECK(*value("0x30-060") == 0);  // hex and octal
  CHECK(*value("7/2%3") == 0);
  CHECK(*value("'A'&0x0f") == 1);
  // A signed number alone (sym+8(SB), -8(SP)) is read without the grammar: the same values and refusals.
  CHECK(*value("-8") == -8);
  CHECK(*value("+8") == 8);
  CHECK(*value("-0x8000000000000000") == INT64_MIN);
  CHECK(*value("-0") == 0);
  CHECK(*value("~8") == -9);
  CHECK(value("-0.5").error().message == "t.s:1:2: 0.5 is a floating constant, not an integer");
  CHECK(value("1/0").error().message == "t.s:1:2: division by zero");
  CHECK(value("2 3").error().message == "t.s:1:3: unexpected '3' in an expression");
}

TEST_CASE("operands: every addressing form") {
  auto sib = arg("-8(CX)(AX*8)");
  REQUIRE(sib.ok());
  CHECK(sib->kind == Arg::Memory);
  CHECK(sib->value == -8);
  CHECK(sib->base->id == 1);
  CHECK(sib->index->id == 0);
  CHECK(sib->scale == 8);

  auto paren_offset = arg("(16+8)(SP)");
  REQUIRE(paren_offset.ok());
  CHECK(paren_offset->value == 24);
  CHECK(paren_offset->base->id == 4);

  auto tls = arg("0x28(GS)");
  CHECK(tls->segment.has_value());
  CHECK(tls->value == 0x28);

  auto sym = arg("runtime·x+8(SB)");
  CHECK(sym->kind == Arg::Symbol);
  CHECK(sym->name == "runtime·x");
  CHECK(sym->value == 8);

  auto addr = arg("$runtime·msg(SB)");
  CHECK(addr->kind == Arg::Address);
  CHECK(addr->name == "runtime·msg");

  CHECK(arg("err+16(FP)")->kind == Arg::Frame);
  CHECK(arg("err+16(FP)")->value == 16);
  CHECK(arg("2(PC)")->kind == Arg::PcRelative);
  CHECK(arg("$-12")->value == -12);
  CHECK(arg("$\"abc\"")->kind == Arg::String);
  CHECK(arg("R13")->reg.id == 13);
  CHECK(arg("X7")->reg.cls == Reg::Xmm);
  CHECK(arg("loop")->kind == Arg::Label);
}

TEST_CASE("operands: malformed ones say what was expected") {
  CHECK(arg("8(SP").error().message == "t.s:1:3: expected ) after the register in '8(SP'");
  CHECK(arg("$x(CX)").error().message == "t.s:1:1: $ takes a constant or the address of sym(SB) in '$x(CX)'");
  CHECK(arg("x(CX)").error().message == "t.s:1:1: undefined: x (a name before (REG) needs (SB), (FP) or (SP)) in 'x(CX)'");
  CHECK(arg("$8(CX)").error().message == "t.s:1:1: $ takes a constant or the address of sym(SB) in '$8(CX)'");
  CHECK(arg("3(SB)").error().message == "t.s:1:2: (SB) needs a symbol name before it, as in runtime·x(SB) in '3(SB)'");
  CHECK(arg("x(FP)(AX*2)").error().message == "t.s:1:6: an index register needs a memory operand in 'x(FP)(AX*2)'");
}

TEST_CASE("operand lists: top-level commas - a trailing comma adds nothing") {
  auto p = lex("DIVL CX,; MOVQ -8(CX)(AX*8), AX");
  REQUIRE(p.ok());
  const auto& divl = p->statements[0].tokens;
  CHECK(split_operands(divl, 1, divl.size()).size() == 1);
  const auto& mov = p->statements[1].tokens;
  CHECK(split_operands(mov, 1, mov.size()).size() == 2);
}
