#include "w64stub/core/frame_plan.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "w64stub/core/frame.hpp"
#include "w64stub/emit/emit.hpp"
#include "w64stub/win/unwind.hpp"

using namespace w64stub;
namespace x86 = asmjit::x86;

namespace {

// The function a plan frames: prolog, one call through RAX, epilog.
Image framed(const FramePlan& plan) {
  Program p;
  p.symbol = "framed";
  plan.prolog(p);
  p.instrs.push_back(Instr{x86::Inst::kIdCall, {x86::rax}});
  plan.epilog(p);
  auto image = emit(p, {.model = Model::Rip});
  REQUIRE_MESSAGE(image.ok(), image.error().message);
  return std::move(*image);
}

// asmjit's own prolog and epilog bytes for a frame, and the plan's, emitted by w64stub.
std::pair<std::vector<uint8_t>, std::vector<uint8_t>> asmjit_and_plan(asmjit::FuncFrame& frame) {
  REQUIRE(frame.finalize() == asmjit::kErrorOk);
  asmjit::CodeHolder code;
  code.init(asmjit::Environment(asmjit::Arch::kX64));
  x86::Assembler a(&code);
  REQUIRE(a.emitProlog(frame) == asmjit::kErrorOk);
  REQUIRE(a.emitEpilog(frame) == asmjit::kErrorOk);
  const asmjit::CodeBuffer& buf = code.textSection()->buffer();
  auto plan = plan_frame(frame);
  REQUIRE_MESSAGE(plan.ok(), plan.error().message);
  Program p;
  p.symbol = "planned";
  plan->prolog(p);
  plan->epilog(p);
  auto image = emit(p, {.model = Model::Rip});
  REQUIRE_MESSAGE(image.ok(), image.error().message);
  return {std::vector<uint8_t>(buf.data(), buf.data() + buf.size()),
          std::vector<uint8_t>(image->text.bytes.begin(), image->text.bytes.begin() + image->code_size)};
}

}  // namespace

TEST_CASE("a plan aligns every call, and the code it emits has unwind data") {
  for (int pushes = 0; pushes <= 4; ++pushes)
    for (int xmms = 0; xmms <= 2; ++xmms)
      for (int call_args : {-1, 0, 4, 5, 7})
        for (int locals : {0, 8, 20})
          for (bool fp : {false, true}) {
            FrameRequest r{.frame_pointer = fp, .locals = locals, .call_args = call_args};
            const x86::Gp nonvolatile[] = {x86::rbx, x86::rsi, x86::rdi, x86::r12};
            for (int i = 0; i < pushes; ++i) r.saved.push_back(nonvolatile[i]);
            for (int i = 0; i < xmms; ++i) r.saved_xmm.push_back(x86::xmm(static_cast<uint32_t>(6 + i)));
            CAPTURE(pushes);
            CAPTURE(xmms);
            CAPTURE(call_args);
            CAPTURE(locals);
            CAPTURE(fp);
            auto plan = plan_frame(r);
            REQUIRE(plan.ok());
            CHECK(plan->outgoing >= (call_args < 0 ? 0 : 32 + 8 * std::max(0, call_args - 4)));
            CHECK(plan->locals_offset + plan->locals <= plan->allocation);
            const Image image = framed(*plan);
            const Frame frame = analyze_frame(image);
            REQUIRE(frame.calls.size() == 1);
            CHECK(frame.calls[0].aligned());
            CHECK(frame.balanced);
            auto unwind = derive_unwind(image);
            REQUIRE_MESSAGE(unwind.ok(), unwind.error().message);
            CHECK(unwind->codes.size() == plan->pushes.size() + (plan->allocation ? 1 : 0) + (fp ? 1 : 0) + xmms);
            CHECK(unwind->frame_register == (fp ? uint32_t{x86::Gp::kIdBp} : 0u));
          }
}

TEST_CASE("where arguments and locals live: registers, home slots and stack slots, from RSP and RBP") {
  auto plan = plan_frame({.saved = {x86::rbx}, .frame_pointer = true, .locals = 16, .call_args = 7});
  REQUIRE(plan.ok());
  // push rbx, push rbp, then 56 (home 32 + 3 stack args) + 16 locals, rounded so that RSP is aligned.
  CHECK(plan->pushes.size() == 2);
  CHECK(plan->outgoing == 56);
  CHECK(plan->allocation == 72);
  CHECK(plan->depth() == 88);
  const ArgumentLocation first = plan->argument(0);
  REQUIRE(first.reg);
  CHECK(first.reg->id() == x86::Gp::kIdCx);
  CHECK(first.slot.rsp == 88 + 8);  // its home slot, just above the return address
  const ArgumentLocation fifth = plan->argument(4);
  CHECK_FALSE(fifth.reg);
  CHECK(fifth.slot.rsp == 88 + 40);
  REQUIRE(fifth.slot.fp);
  CHECK(*fifth.slot.fp == 88 + 40 - plan->fp_offset);
  CHECK(plan->argument(1, true).reg->id() == 1);  // xmm1
  CHECK(plan->local(8).rsp == 56 + 8);
  CHECK(plan_frame({.saved = {x86::rcx}}).error().message.find("volatile") != std::string::npos);
  CHECK(plan_frame({.saved_xmm = {x86::xmm5}}).error().message.find("xmm5 is volatile") != std::string::npos);
  CHECK(plan_frame({.locals = 8192}).error().message.find("stack probes") != std::string::npos);
}

TEST_CASE("acceptance 3: a plan from asmjit's FuncFrame emits the bytes asmjit's emitProlog/emitEpilog do") {
  const asmjit::Environment env(asmjit::Arch::kX64);
  asmjit::FuncDetail detail;
  REQUIRE(detail.init(asmjit::FuncSignatureT<void>(asmjit::CallConvId::kX64Windows), env) == asmjit::kErrorOk);
  struct Case {
    uint32_t gps, xmms, call, local;
    bool fp;
  };
  const Case cases[] = {{0, 0, 0, 0, false},     {0, 0, 40, 0, false},   {0x8 | 0x40 | 0x80 | 0x1000, 0xC0, 40, 8, false},
                        {0x8, 0, 32, 16, true},  {0x8 | 0x40, 0x40, 48, 24, true}, {0xF000, 0, 0, 0, false}};
  for (const Case& c : cases) {
    CAPTURE(c.gps);
    CAPTURE(c.fp);
    asmjit::FuncFrame frame;
    REQUIRE(frame.init(detail) == asmjit::kErrorOk);
    frame.setDirtyRegs(asmjit::RegGroup::kGp, c.gps);
    frame.setDirtyRegs(asmjit::RegGroup::kVec, c.xmms);
    frame.setCallStackSize(c.call);
    frame.setLocalStackSize(c.local);
    if (c.fp) frame.setPreservedFP();
    auto [theirs, ours] = asmjit_and_plan(frame);
    CHECK(fmt::format("{:02x}", fmt::join(theirs, " ")) == fmt::format("{:02x}", fmt::join(ours, " ")));
  }
}
