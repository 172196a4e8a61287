#include "w64stub/exec/probe.hpp"

#include <doctest/doctest.h>

#include <fmt/ranges.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>


#include "../testing/test_support.hpp"
#include "../testing/probe_stubs.hpp"
#include "../testing/thunk_example.hpp"

using namespace w64stub;
namespace x86 = asmjit::x86;

using test::find_rule;
using test::probe_ok;
using test::rules;
using test::Stub;

TEST_CASE("acceptance 1: faithful and fixed CALLs are misaligned by 8 under the Win64 entry - abi is conformant") {
  for (const char* stub : {"badcallback", "badcallback-prefix", "badsignal"})
    for (Model m : kModels)
      for (Variant v : kVariants) {
        if (m == Model::Abs64 && v == Variant::Faithful) continue;  // refused by emit (golden_test)
        CAPTURE(stub);
        CAPTURE(name(m));
        CAPTURE(name(v));
        Image image = test::emit_catalog(stub, v, m);
        ProbeReport win64 = probe_ok(image);
        REQUIRE(win64.run.calls.size() == 2);
        CHECK(win64.run.wx_mappings == 0);
        if (v == Variant::Abi) {
          CHECK(win64.conformant());
        } else {
          CHECK(rules(win64) == "call-alignment, call-alignment");
          for (const Violation& viol : win64.violations) {
            CHECK(viol.message.find("RSP = 8 (mod 16)") != std::string::npos);
            CHECK(viol.instruction == "call rax");
            CHECK(viol.source == "CALL AX");
          }
          ProbeReport shifted = probe_ok(image, {.entry_residue = 0});
          CHECK(shifted.conformant());
          CHECK(shifted.run.calls[0].call_residue == 0);
        }
        CHECK(win64.stub.returned);
        CHECK(win64.stub.nonvolatiles_preserved);
        CHECK(win64.stub.rsp_balanced);
        CHECK(win64.stub.df_clear);
        CHECK(win64.stub.caller_frame_intact);
      }
}

TEST_CASE("acceptance 2: faithful's WriteFile count is reported as the length's address") {
  for (const char* stub : {"badcallback", "badsignal"})
    for (Model m : {Model::Go2012, Model::Rip}) {
      CAPTURE(stub);
      Image image = test::emit_catalog(stub, Variant::Faithful, m);
      auto probed = probe(image, {}, catalog_diagnoses());
      REQUIRE(probed.ok());
      const ProbeReport& r = *probed;
      const CallRecord& wf = r.run.calls.at(1);
      const std::string len = fmt::format("runtime·{}len", stub);
      const uint64_t len_address = r.run.address_of(len);
      REQUIRE(len_address != 0);
      CHECK(static_cast<uint32_t>(wf.args[2]) == static_cast<uint32_t>(len_address));
      CHECK(wf.args[2] != catalog_message(stub).size());
      REQUIRE(r.calls.at(1).findings.size() == 2);
      CHECK(r.calls[1].findings[0].text == fmt::format("nNumberOfBytesToWrite {:#x} is the address of {}, not its value",
                                                       static_cast<uint32_t>(len_address), len));
      CHECK(r.calls[1].findings[0].kind == Finding::Note);
      CHECK(r.calls[1].findings[1].text == "WriteFile returned FALSE, GetLastError 1784");
      CHECK(r.calls[1].findings[1].kind == Finding::Failure);
      // Without the catalog's diagnosis the probe says only what the signature tells.
      CHECK(probe_ok(image).calls.at(1).findings.size() == 1);
    }
}

TEST_CASE("acceptance 3a: broken stubs - registers and flags (a volatile one relied on), each with the right diagnosis") {
  SUBCASE("clobbers RSI (written twice: the last writer is named)") {
    Stub s;
    s.add("mov esi, 5", x86::Inst::kIdMov, {x86::esi, asmjit::Imm(5)});
    s.get_std_handle(40).add("xor esi, esi", x86::Inst::kIdXor, {x86::esi, x86::esi});
    const int culprit = s.line();
    Image image = s.leave(40).image();
    ProbeReport r = probe_ok(image);
    REQUIRE(rules(r) == "nonvolatile");
    CHECK(r.violations[0].message.starts_with("RSI is nonvolatile but came back 0x0, not 0xc0de000000000400"));
    CHECK(r.violations[0].offset == Stub::offset_of_line(culprit, image));
    CHECK(r.violations[0].instruction == "xor esi, esi");
    CHECK(r.violations[0].loc.line == culprit);
  }
  SUBCASE("clobbers XMM7") {
    Stub s;
    s.get_std_handle(40).add("xorps xmm7, xmm7", x86::Inst::kIdXorps, {x86::xmm7, x86::xmm7});
    const int culprit = s.line();
    Image image = s.leave(40).image();
    ProbeReport r = probe_ok(image);
    REQUIRE(rules(r) == "nonvolatile");
    CHECK(r.violations[0].message.starts_with("XMM7 is nonvolatile"));
    CHECK(r.violations[0].offset == Stub::offset_of_line(culprit, image));
  }
  SUBCASE("sets DF") {
    Stub s;
    s.get_std_handle(40).add("std", x86::Inst::kIdStd);
    const int culprit = s.line();
    Image image = s.leave(40).image();
    ProbeReport r = probe_ok(image);
    REQUIRE(rules(r) == "direction-flag");
    CHECK(r.violations[0].offset == Stub::offset_of_line(culprit, image));
    CHECK_FALSE(r.stub.df_clear);
  }
  SUBCASE("changes the rounding mode in MXCSR") {
    Stub s;
    s.add("stmxcsr [rsp+8]", x86::Inst::kIdStmxcsr, {x86::dword_ptr(x86::rsp, 8)});
    s.add("or dword [rsp+8], 0x6000", x86::Inst::kIdOr, {x86::dword_ptr(x86::rsp, 8), asmjit::Imm(0x6000)});
    s.add("ldmxcsr [rsp+8]", x86::Inst::kIdLdmxcsr, {x86::dword_ptr(x86::rsp, 8)});
    Image image = s.add("ret", x86::Inst::kIdRet).image();
    ProbeReport r = probe_ok(image);
    REQUIRE(rules(r) == "mxcsr");
    CHECK(r.violations[0].message == "MXCSR came back 0x7f80, not 0x1f80; its control bits are nonvolatile");
  }
  SUBCASE("an inexact division sets MXCSR's precision flag: a status flag, volatile - no violation") {
    Stub s;
    s.add("mov eax, 1", x86::Inst::kIdMov, {x86::eax, asmjit::Imm(1)});
    s.add("cvtsi2sd xmm0, eax", x86::Inst::kIdCvtsi2sd, {x86::xmm0, x86::eax});
    s.add("mov eax, 3", x86::Inst::kIdMov, {x86::eax, asmjit::Imm(3)});
    s.add("cvtsi2sd xmm1, eax", x86::Inst::kIdCvtsi2sd, {x86::xmm1, x86::eax});
    s.add("divsd xmm0, xmm1", x86::Inst::kIdDivsd, {x86::xmm0, x86::xmm1});
    Image image = s.add("ret", x86::Inst::kIdRet).image();
    ProbeReport r = probe_ok(image);
    CHECK(r.run.after.mxcsr == (win64::kDefaultMxcsr | 0x20));  // PE set: the division ran
    CHECK(r.conformant());
    CHECK(r.stub.mxcsr_preserved);
  }
  SUBCASE("keeps the handle in RCX across a CALL") {
    Stub s;
    s.get_std_handle(40);
    s.add("mov rax, [GetStdHandle]", x86::Inst::kIdMov, {x86::rax, SymbolMem{"GetStdHandle", 0, 8}});
    s.add("call rax", x86::Inst::kIdCall, {x86::rax});
    const int second = s.line();
    Image image = s.leave(40).image();
    ProbeReport r = probe_ok(image);
    REQUIRE(rules(r) == "volatile-reliance");
    CHECK(r.violations[0].message.find("nStdHandle = 0xbad0000000000001, the value a previous callee left in RCX") !=
          std::string::npos);
    CHECK(r.violations[0].offset == Stub::offset_of_line(second, image));
  }
}

// A JMP to an import hands the callee the stub's own entry RSP: the callee's home area is the one the stub's
// caller gave the stub, and the callee returns to that caller. Legal; no call-site rule applies to it.
TEST_CASE("a tail call (JMP through an import slot, entry RSP untouched) is conformant - the same JMP below a frame is not") {
  Stub tail;
  tail.add("mov ecx, -12", x86::Inst::kIdMov, {x86::ecx, asmjit::Imm(-12)});
  Image image = tail.add("jmp [GetStdHandle]", x86::Inst::kIdJmp, {SymbolMem{"GetStdHandle", 0, 8}}).image();
  ProbeReport r = probe_ok(image);
  REQUIRE(r.run.calls.size() == 1);
  CHECK(r.run.calls[0].entry_rsp == r.run.stub_entry_rsp);
  CHECK(r.conformant());

  // Below a frame of its own that it never pops, the JMP is no tail call: the callee's home area reaches the
  // stub's return address.
  Stub framed;
  framed.add("sub rsp, 8", x86::Inst::kIdSub, {x86::rsp, asmjit::Imm(8)});
  framed.add("mov ecx, -12", x86::Inst::kIdMov, {x86::ecx, asmjit::Imm(-12)});
  Image leaky = framed.add("jmp [GetStdHandle]", x86::Inst::kIdJmp, {SymbolMem{"GetStdHandle", 0, 8}}).image();
  CHECK(find_rule(probe_ok(leaky), "home-area"));
}

TEST_CASE("acceptance 3b: broken stubs - the stack and the caller's frame, each with the right diagnosis") {
  SUBCASE("forgets the home area: sub rsp, 8 before the call") {
    Stub s;
    s.get_std_handle(8);
    const int call = s.line();
    Image image = s.leave(8).image();
    ProbeReport r = probe_ok(image);
    const Violation* home = find_rule(r, "home-area");
    REQUIRE(home);
    CHECK(home->offset == Stub::offset_of_line(call, image));
    CHECK(home->message.find("reaches 24 bytes above the stub's frame") != std::string::npos);
    CHECK_FALSE(r.calls[0].home_area);
    CHECK(r.calls[0].aligned);  // 16-byte aligned, just too small
    // The hostile callee's home-area writes land on the stub's return address: it cannot return.
    CHECK(r.run.ending == Ending::Faulted);
    CHECK(find_rule(r, "fault"));
  }
  SUBCASE("returns with RSP off by 8 (ret 8, callee-pops)") {
    Stub s;
    s.get_std_handle(40).add("add rsp, 40", x86::Inst::kIdAdd, {x86::rsp, asmjit::Imm(40)});
    s.add("ret 8", x86::Inst::kIdRet, {asmjit::Imm(8)});
    Image image = s.image();
    ProbeReport r = probe_ok(image);
    REQUIRE(rules(r) == "rsp-balance");
    CHECK(r.violations[0].message.starts_with("RSP came back +8 bytes off"));
    CHECK(r.violations[0].instruction == "ret 0x08");
  }
  SUBCASE("writes above its home area, into its caller's frame") {
    Stub s;
    s.add("mov qword [rsp+40], 0", x86::Inst::kIdMov, {x86::qword_ptr(x86::rsp, 40), asmjit::Imm(0)});
    Image image = s.add("ret", x86::Inst::kIdRet).image();
    ProbeReport r = probe_ok(image);
    REQUIRE(rules(r) == "caller-frame");
    CHECK(r.violations[0].message == "the caller's frame above the stub's home area was overwritten at [entry RSP+40]: 0x0");
  }
  SUBCASE("writes the last word of its caller's frame that the caller watches") {
    Stub s;
    s.add("mov qword [rsp+64], 0", x86::Inst::kIdMov, {x86::qword_ptr(x86::rsp, 64), asmjit::Imm(0)});
    Image image = s.add("ret", x86::Inst::kIdRet).image();
    ProbeReport r = probe_ok(image);
    REQUIRE(rules(r) == "caller-frame");
    CHECK(r.violations[0].message == "the caller's frame above the stub's home area was overwritten at [entry RSP+64]: 0x0");
  }
}

TEST_CASE("acceptance 3c: broken stubs - faults, endless loops and a callee's leftovers, each with the right diagnosis") {
  SUBCASE("faults: a store to address 0") {
    Stub s;
    s.add("sub rsp, 40", x86::Inst::kIdSub, {x86::rsp, asmjit::Imm(40)});
    s.add("mov dword [0], eax", x86::Inst::kIdMov, {x86::dword_ptr_abs(0), x86::eax});
    const int culprit = s.line();
    Image image = s.leave(40).image();
    ProbeReport r = probe_ok(image);
    REQUIRE(rules(r) == "fault");
    CHECK(r.run.fault.address == 0);
    CHECK(r.violations[0].message.starts_with("SIGSEGV touching 0x0 at +0x4"));
    CHECK(r.violations[0].offset == Stub::offset_of_line(culprit, image));
    CHECK(r.violations[0].instruction.starts_with("mov [0x"));
  }
  SUBCASE("loops forever") {
    Stub s;
    s.label("spin").add("jmp spin", x86::Inst::kIdJmp, {CodeLabel{"spin"}});
    const int culprit = s.line();
    Image image = s.add("ret", x86::Inst::kIdRet).image();
    ProbeReport r = probe_ok(image, {.timeout = std::chrono::milliseconds(200)});
    REQUIRE(rules(r) == "timeout");
    CHECK(r.run.ending == Ending::TimedOut);
    CHECK(r.violations[0].message == "did not return in time; stopped at +0x0");
    CHECK(r.violations[0].offset == Stub::offset_of_line(culprit, image));
  }
  SUBCASE("keeps a value in the home area it gave a callee") {
    Stub s;
    s.add("sub rsp, 40", x86::Inst::kIdSub, {x86::rsp, asmjit::Imm(40)});
    s.add("mov qword [rsp], -12", x86::Inst::kIdMov, {x86::qword_ptr(x86::rsp), asmjit::Imm(-12)});
    s.add("mov rcx, [rsp]", x86::Inst::kIdMov, {x86::rcx, x86::qword_ptr(x86::rsp)});
    s.add("mov rax, [GetStdHandle]", x86::Inst::kIdMov, {x86::rax, SymbolMem{"GetStdHandle", 0, 8}});
    s.add("call rax", x86::Inst::kIdCall, {x86::rax});
    s.add("mov rcx, [rsp]", x86::Inst::kIdMov, {x86::rcx, x86::qword_ptr(x86::rsp)});
    s.add("mov rax, [GetStdHandle]", x86::Inst::kIdMov, {x86::rax, SymbolMem{"GetStdHandle", 0, 8}});
    s.add("call rax", x86::Inst::kIdCall, {x86::rax});
    Image image = s.leave(40).image();
    ProbeReport r = probe_ok(image);
    REQUIRE(rules(r) == "volatile-reliance");
    CHECK(r.violations[0].message.find("what a previous callee wrote to [RSP+8] of its home area") != std::string::npos);
  }
  SUBCASE("keeps a value in the last slot of the home area it gave a callee") {
    Stub s;
    s.add("sub rsp, 40", x86::Inst::kIdSub, {x86::rsp, asmjit::Imm(40)});
    s.add("mov ecx, -12", x86::Inst::kIdMov, {x86::ecx, asmjit::Imm(-12)});
    s.add("mov rax, [GetStdHandle]", x86::Inst::kIdMov, {x86::rax, SymbolMem{"GetStdHandle", 0, 8}});
    s.add("call rax", x86::Inst::kIdCall, {x86::rax});
    s.add("mov rcx, [rsp+24]", x86::Inst::kIdMov, {x86::rcx, x86::qword_ptr(x86::rsp, 24)});
    s.add("mov rax, [GetStdHandle]", x86::Inst::kIdMov, {x86::rax, SymbolMem{"GetStdHandle", 0, 8}});
    s.add("call rax", x86::Inst::kIdCall, {x86::rax});
    Image image = s.leave(40).image();
    ProbeReport r = probe_ok(image);
    REQUIRE(rules(r) == "volatile-reliance");
    CHECK(r.violations[0].message.find("what a previous callee wrote to [RSP+32] of its home area") != std::string::npos);
  }
  SUBCASE("passes a previous callee's leftover as a stack argument") {
    // WriteFile's fifth argument, lpOverlapped, at [RSP+32]: R10 as GetStdHandle left it.
    Stub s;
    s.get_std_handle(56);
    s.add("mov [rsp+32], r10", x86::Inst::kIdMov, {x86::qword_ptr(x86::rsp, 32), x86::r10});
    s.add("mov rcx, rax", x86::Inst::kIdMov, {x86::rcx, x86::rax});
    s.add("xor edx, edx", x86::Inst::kIdXor, {x86::edx, x86::edx});
    s.add("xor r8d, r8d", x86::Inst::kIdXor, {x86::r8d, x86::r8d});
    s.add("xor r9d, r9d", x86::Inst::kIdXor, {x86::r9d, x86::r9d});
    s.add("mov rax, [WriteFile]", x86::Inst::kIdMov, {x86::rax, SymbolMem{"WriteFile", 0, 8}});
    s.add("call rax", x86::Inst::kIdCall, {x86::rax});
    const int second = s.line();
    Image image = s.leave(56).image();
    ProbeReport r = probe_ok(image);
    REQUIRE(rules(r) == "volatile-reliance");
    CHECK(r.violations[0].message.find("lpOverlapped = 0xbad000000000000a, the value a previous callee left in R10") !=
          std::string::npos);
    CHECK(r.violations[0].offset == Stub::offset_of_line(second, image));
  }
}

TEST_CASE("acceptance 4: a stub framed by asmjit's own FuncFrame/emitProlog passes") {
  const asmjit::Environment env(asmjit::Arch::kX64);
  asmjit::FuncDetail detail;
  REQUIRE(detail.init(asmjit::FuncSignatureT<void>(asmjit::CallConvId::kX64Windows), env) == asmjit::kErrorOk);
  asmjit::FuncFrame frame;
  REQUIRE(frame.init(detail) == asmjit::kErrorOk);
  frame.setDirtyRegs(asmjit::RegGroup::kGp, asmjit::Support::bitMask(x86::Gp::kIdBx, x86::Gp::kIdSi, x86::Gp::kIdDi,
                                                                     x86::Gp::kIdR12));
  frame.setDirtyRegs(asmjit::RegGroup::kVec, asmjit::Support::bitMask(6, 7));
  frame.setCallStackSize(win64::kHomeArea + 8);  // WriteFile: home area and lpOverlapped
  frame.setLocalStackSize(8);                // the written count
  REQUIRE(frame.finalize() == asmjit::kErrorOk);

  Stub s;
  Program& p = s.program();
  p.symbol = "framed";
  p.data = {{"message", {'f', 'r', 'a', 'm', 'e', 'd', '\n'}, 1}, {"length", {7, 0, 0, 0}, 4}};
  auto append = [&](auto&& emit_part) {
    asmjit::CodeHolder code;
    code.init(env);
    x86::Builder builder(&code);
    REQUIRE(emit_part(builder) == asmjit::kErrorOk);
    REQUIRE(append_builder(p, builder, {"framed", 0, 0}).ok());
  };
  append([&](x86::Builder& b) { return b.emitProlog(frame); });
  const auto local = x86::qword_ptr(x86::rsp, static_cast<int32_t>(frame.localStackOffset()));
  s.add("mov ecx, -11", x86::Inst::kIdMov, {x86::ecx, asmjit::Imm(-11)});
  s.add("mov rax, [GetStdHandle]", x86::Inst::kIdMov, {x86::rax, SymbolMem{"GetStdHandle", 0, 8}});
  s.add("call rax", x86::Inst::kIdCall, {x86::rax});
  // Use what the prolog saved, so a broken prolog/epilog would show.
  s.add("mov rbx, rax", x86::Inst::kIdMov, {x86::rbx, x86::rax});
  s.add("xor esi, esi", x86::Inst::kIdXor, {x86::esi, x86::esi});
  s.add("mov rdi, rsp", x86::Inst::kIdMov, {x86::rdi, x86::rsp});
  s.add("mov r12, -1", x86::Inst::kIdMov, {x86::r12, asmjit::Imm(-1)});
  s.add("xorps xmm6, xmm6", x86::Inst::kIdXorps, {x86::xmm6, x86::xmm6});
  s.add("pcmpeqd xmm7, xmm7", x86::Inst::kIdPcmpeqd, {x86::xmm7, x86::xmm7});
  s.add("mov rcx, rbx", x86::Inst::kIdMov, {x86::rcx, x86::rbx});
  s.add("mov rdx, message", x86::Inst::kIdMov, {x86::rdx, SymbolAddr{"message", 0}});
  s.add("mov r8d, [length]", x86::Inst::kIdMov, {x86::r8d, SymbolMem{"length", 0, 4}});
  s.add("lea r9, [local]", x86::Inst::kIdLea, {x86::r9, local});
  s.add("mov qword [rsp+32], 0", x86::Inst::kIdMov, {x86::qword_ptr(x86::rsp, 32), asmjit::Imm(0)});
  s.add("mov rax, [WriteFile]", x86::Inst::kIdMov, {x86::rax, SymbolMem{"WriteFile", 0, 8}});
  s.add("call rax", x86::Inst::kIdCall, {x86::rax});
  append([&](x86::Builder& b) { return b.emitEpilog(frame); });

  for (Model m : {Model::Go2012, Model::Rip}) {
    CAPTURE(name(m));
    ProbeReport r = probe_ok(s.image(m));
    CHECK_MESSAGE(r.conformant(), (r.violations.empty() ? "" : r.violations[0].message));
    REQUIRE(r.run.calls.size() == 2);
    CHECK(r.run.captured_stdout == "framed\n");
    CHECK(r.run.calls[1].stack_args[0] == 0);  // lpOverlapped, read from [RSP+40] at the callee's entry
    CHECK(r.calls[1].stack_arguments);
  }
}

TEST_CASE("acceptance 5: no writable+executable memory, in the child or left in the parent") {
  ProbeReport r = probe_ok(test::emit_catalog("badsignal", Variant::Abi, Model::Rip));
  CHECK(r.run.wx_mappings == 0);
  CHECK(test::wx_mappings() == 0);
}

TEST_CASE("the worked example: a 6-in, 7-out thunk from a frame plan returns the right value and probes conformant") {
  auto image = emit(test::make_thunk(), {.model = Model::Rip});
  REQUIRE_MESSAGE(image.ok(), image.error().message);
  CHECK_FALSE(image->unwind.empty());  // its prolog is one unwind data describes
  // Called as a JIT author calls it: instantiated here, the import bound to a host function.
  using Sum7 = __attribute__((ms_abi)) int64_t (*)(int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t);
  const Sum7 host = [](int64_t a, int64_t b, int64_t c, int64_t d, int64_t e, int64_t f, int64_t g)
      __attribute__((ms_abi)) { return test::sum7(a, b, c, d, e, f, g); };
  const Binding bindings[] = {{"w64stub_sum7", reinterpret_cast<const void*>(host)}};
  auto instance = instantiate(*image, bindings);
  REQUIRE_MESSAGE(instance.ok(), instance.error().message);
  using Thunk = __attribute__((ms_abi)) int64_t (*)(int64_t, int64_t, int64_t, int64_t, int64_t, int64_t);
  CHECK(reinterpret_cast<Thunk>(instance->text_address())(1, 2, 3, 4, 5, 6) == test::sum7(1, 2, 3, 4, 5, 6, 7));
  // Under the probe, with a stand-in that declares the seven arguments.
  const StandIn sum7_standin{"winrun.exe", "w64stub_sum7", *win64::parse_signature(test::kSum7Signature),
                             [](StandInContext&, std::span<const uint64_t> a) -> uint64_t {
                               auto v = [&](size_t i) { return static_cast<int64_t>(a[i]); };
                               return static_cast<uint64_t>(test::sum7(v(0), v(1), v(2), v(3), v(4), v(5), v(6)));
                             },
                             {}};
  ProbeReport r = probe_ok(*image, {.standins = {&sum7_standin, 1}});
  CHECK_MESSAGE(r.conformant(), rules(r));
  REQUIRE(r.run.calls.size() == 1);
  CHECK(r.run.calls[0].stack_args[2] == 7);  // the seventh argument, where the callee looks for it
  CHECK(r.run.value == static_cast<uint64_t>(test::sum7(static_cast<int64_t>(r.run.calls[0].args[0]),
                                                        static_cast<int64_t>(r.run.calls[0].args[1]),
                                                        static_cast<int64_t>(r.run.calls[0].args[2]),
                                                        static_cast<int64_t>(r.run.calls[0].args[3]),
                                                        static_cast<int64_t>(r.run.calls[0].stack_args[0]),
                                                        static_cast<int64_t>(r.run.calls[0].stack_args[1]), 7)));
}

namespace {
// host_function calls as uint64_t(uint64_t x 8): the eighth is unused here.
uint64_t host_sum7(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e, uint64_t f, uint64_t g, uint64_t) {
  auto s = [](uint64_t v) { return static_cast<int64_t>(v); };
  return static_cast<uint64_t>(test::sum7(s(a), s(b), s(c), s(d), s(e), s(f), s(g)));
}
}  // namespace

TEST_CASE("declared stub arguments: canaries in, where each went out - the thunk bound to a host function") {
  const auto thunk_signature = *win64::parse_signature("a:i64,b:i64,c:i64,d:i64,e:i64,f:i64->i64");
  const StandIn bound = host_function("winrun.exe", "w64stub_sum7", *win64::parse_signature(test::kSum7Signature),
                                      reinterpret_cast<const void*>(&host_sum7));
  auto image = emit(test::make_thunk(), {.model = Model::Rip});
  REQUIRE(image.ok());
  ProbeReport r = probe_ok(*image, {.standins = {&bound, 1}, .signature = thunk_signature});
  CHECK_MESSAGE(r.conformant(), rules(r));
  auto canary = [](int i) { return static_cast<int64_t>(argument_canary(i)); };
  CHECK(r.run.value == static_cast<uint64_t>(test::sum7(canary(0), canary(1), canary(2), canary(3), canary(4), canary(5), 7)));
  REQUIRE(r.calls.size() == 1);
  std::vector<std::string> notes;
  for (const Finding& f : r.calls[0].findings) notes.push_back(f.text);
  CHECK(notes.size() == 6);
  CHECK(std::find(notes.begin(), notes.end(), "argument 5 of the stub (e) reached w64stub_sum7 as e") != notes.end());
  CHECK(std::find(notes.begin(), notes.end(), "argument 1 of the stub (a) reached w64stub_sum7 as a") != notes.end());

  // The same thunk with no room for the three stack arguments it writes: reported at the CALL.
  Program cramped = test::make_thunk();
  const FramePlan small = *plan_frame({.call_args = 4});
  cramped.instrs.front() = Instr{asmjit::x86::Inst::kIdSub, {asmjit::x86::rsp, asmjit::Imm(small.allocation)}};
  cramped.instrs[cramped.instrs.size() - 2] = Instr{asmjit::x86::Inst::kIdAdd, {asmjit::x86::rsp, asmjit::Imm(small.allocation)}};
  for (Instr& in : cramped.instrs)  // the stack arguments of the thunk itself moved with the frame
    for (Operand& op : in.operands)
      if (auto* plain = std::get_if<asmjit::Operand>(&op); plain && plain->isMem() && plain->as<x86::Mem>().offsetLo32() > 48)
        plain->as<x86::Mem>().setOffsetLo32(plain->as<x86::Mem>().offsetLo32() - (56 - small.allocation));
  auto cramped_image = emit(cramped, {.model = Model::Rip});
  REQUIRE(cramped_image.ok());
  ProbeReport c = probe_ok(*cramped_image, {.standins = {&bound, 1}, .signature = thunk_signature});
  const Violation* stack = find_rule(c, "stack-arguments");
  REQUIRE(stack);
  CHECK(stack->instruction == "call rax");
  CHECK(stack->message.find("its 3 stack argument(s) at [RSP+32] lie above the stub's frame") != std::string::npos);
}

TEST_CASE("declared floating arguments: the canary in XMM0 is followed to the callee's XMM0") {
  Stub s;
  s.program().imports = {{"sqrt", "msvcrt.dll", "sqrt", "v:f64->f64"}};
  s.add("sub rsp, 40", x86::Inst::kIdSub, {x86::rsp, asmjit::Imm(40)});
  s.add("mov rax, [sqrt]", x86::Inst::kIdMov, {x86::rax, SymbolMem{"sqrt", 0, 8}});
  s.add("call rax", x86::Inst::kIdCall, {x86::rax});
  Image image = s.leave(40).image();
  ProbeReport r = probe_ok(image, {.signature = *win64::parse_signature("x:f64,n:i64")});
  REQUIRE(r.calls.size() == 1);
  CHECK(r.run.calls[0].argument(0) == argument_canary(0));  // XMM0: the stub's first argument, passed through
  CHECK(r.run.calls[0].args[0] != argument_canary(0));      // not in RCX: a floating argument goes in XMM0
  std::vector<std::string> notes;
  for (const Finding& f : r.calls[0].findings) notes.push_back(f.text);
  CHECK(std::find(notes.begin(), notes.end(), "argument 1 of the stub (x) reached sqrt as v") != notes.end());
}

// No stub here can leave a process behind (the sandbox denies fork and clone, and the harness kills the run's
// whole group); the judgement of a run that says one did is checked on its own.
TEST_CASE("a run that left a process behind is judged escaped") {
  Stub s;
  Image image = s.add("ret", x86::Inst::kIdRet).image();
  RunReport run = probe_ok(image).run;
  REQUIRE(check_contract(image, run).conformant());
  run.processes_left = true;
  const ProbeReport r = check_contract(image, run);
  REQUIRE(rules(r) == "escaped");
  CHECK(r.violations[0].message == "a process of the run outlived it");
}
