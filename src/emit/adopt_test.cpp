#include "w64stub/emit/adopt.hpp"

#include <doctest/doctest.h>

#include <fmt/format.h>

#include <cstdlib>

#include "w64stub/core/disasm.hpp"
#include "w64stub/exec/probe.hpp"
#include "w64stub/win/unwind.hpp"

using namespace w64stub;
namespace x86 = asmjit::x86;

namespace {

uint64_t host_labs(uint64_t x, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t) {
  const auto v = static_cast<int64_t>(x);
  return static_cast<uint64_t>(v < 0 ? uint64_t{0} - x : x);
}

const StandIn& labs_standin() {
  static const StandIn s = host_function("msvcrt.dll", "labs", *win64::parse_signature("x:i64->i64"),
                                         reinterpret_cast<const void*>(&host_labs));
  return s;
}

}  // namespace

TEST_CASE("a function built with asmjit's Compiler is adopted, probed, and unwinds") {
  asmjit::CodeHolder code;
  code.init(asmjit::Environment(asmjit::Arch::kX64));
  x86::Compiler cc(&code);
  asmjit::Label slot = cc.newLabel();
  const asmjit::FuncSignatureT<int64_t, int64_t> signature(asmjit::CallConvId::kX64Windows);
  asmjit::FuncNode* fn = cc.addFunc(signature);
  x86::Gp x = cc.newInt64("x"), target = cc.newInt64("target"), result = cc.newInt64("result");
  fn->setArg(0, x);
  cc.mov(target, x86::ptr(slot));
  asmjit::InvokeNode* call = nullptr;
  cc.invoke(&call, target, signature);
  call->setArg(0, x);
  call->setRet(0, result);
  cc.add(result, 1);
  cc.ret(result);
  cc.endFunc();
  cc.align(asmjit::AlignMode::kData, 8);
  cc.bind(slot);
  cc.embedUInt64(0);
  REQUIRE(cc.finalize() == asmjit::kErrorOk);

  auto image = adopt(code, "compiled", {{Import{"labs", "msvcrt.dll", "labs", "x:i64->i64"}, slot}});
  REQUIRE_MESSAGE(image.ok(), image.error().message);
  CHECK_FALSE(image->unwind.empty());
  auto report = probe(*image, {.standins = {&labs_standin(), 1}, .signature = *win64::parse_signature("x:i64->i64")});
  REQUIRE_MESSAGE(report.ok(), report.error().message);
  CHECK(report->conformant());
  REQUIRE(report->run.calls.size() == 1);
  CHECK(report->run.calls[0].args[0] == argument_canary(0));  // x, passed through
  CHECK(report->run.value == host_labs(argument_canary(0), 0, 0, 0, 0, 0, 0, 0) + 1);
}

TEST_CASE("bytes encoded elsewhere (as Xbyak would) with a RIP-relative field naming an import slot") {
  // sub rsp, 40; mov rcx, -5; call [rip+0]; add rsp, 40; ret -- encoded by asmjit as any encoder would.
  asmjit::CodeHolder code;
  code.init(asmjit::Environment(asmjit::Arch::kX64));
  x86::Assembler a(&code);
  a.sub(x86::rsp, 40);
  a.mov(x86::rcx, -5);
  a.call(x86::qword_ptr(x86::rip, 0));
  const size_t call_end = code.textSection()->buffer().size();
  a.add(x86::rsp, 40);
  a.ret();
  const asmjit::CodeBuffer& buf = code.textSection()->buffer();
  ForeignCode foreign{"handmade", {buf.data(), buf.data() + buf.size()}, 0x140001000,
                      {{"labs", "msvcrt.dll", "labs", "x:i64->i64"}}, {}, {{static_cast<uint32_t>(call_end - 4), "labs", 0}}};
  auto image = adopt(foreign);
  REQUIRE_MESSAGE(image.ok(), image.error().message);
  auto call = decode_one({image->text.bytes.data() + call_end - 6, 6}, image->text.address + call_end - 6);
  REQUIRE(call.ok());
  CHECK(call->text == fmt::format("call [0x{:016X}]", image->find_symbol("labs")->address));
  auto report = probe(*image, {.standins = {&labs_standin(), 1}});
  REQUIRE_MESSAGE(report.ok(), report.error().message);
  CHECK(report->conformant());
  CHECK(report->run.value == 5);
  // A field that names nothing, or lies outside the code, is refused.
  foreign.fields = {{static_cast<uint32_t>(call_end - 4), "nothing", 0}};
  CHECK(adopt(foreign).error().message == fmt::format("handmade: field at +{:#x} names nothing, which is neither an import nor data", call_end - 4));
  foreign.fields = {{100, "labs", 0}};
  CHECK(adopt(foreign).error().message == "handmade: field at +0x64 is not inside an instruction");
}
