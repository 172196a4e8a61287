#include "w64stub/core/frame.hpp"

#include <doctest/doctest.h>

#include "w64stub/catalog/catalog.hpp"
#include "w64stub/core/frame_plan.hpp"
#include "w64stub/emit/emit.hpp"

using namespace w64stub;
namespace x86 = asmjit::x86;

namespace {

// The frame of a Program's code as emit lays it out (analysis reads the machine code, not the Program).
Frame analyze(const Program& program, int entry_residue = win64::kEntryResidue) {
  auto image = emit(program, {});
  REQUIRE_MESSAGE(image.ok(), image.error().message);
  return analyze_frame(*image, entry_residue);
}

}  // namespace

TEST_CASE("the catalog's abi frame is the plan for one stack argument and an 8-byte local") {
  CHECK(plan_frame({.locals = 8, .call_args = 5})->allocation == 56);  // DESIGN.md's abi variant
  CHECK(plan_frame({.call_args = 4})->allocation == 40);  // the classic sub rsp, 40 of a function that calls
  CHECK(plan_frame({.saved = {x86::rbp}, .call_args = 0})->allocation == 32);  // push rbp already moved RSP by 8
}

TEST_CASE("post-fix badcallback: explicit 48, both calls misaligned by 8") {
  Frame f = analyze(*catalog_program("badcallback", Variant::Faithful));
  CHECK(f.declared == 0);
  CHECK(f.explicit_adjust == 48);
  CHECK(f.shadow == 32);
  CHECK(f.stack_args == 1);
  CHECK(f.locals == 8);
  CHECK(f.max_depth() == 56);
  CHECK(f.balanced);
  REQUIRE(f.calls.size() == 2);
  CHECK(f.calls[0].residue == 8);
  CHECK(f.calls[1].residue == 8);
  CHECK(f.calls[0].loc.line == 6);
  CHECK(f.calls[0].offset == 0x17);
  CHECK_FALSE(f.calls_aligned());
}

TEST_CASE("pre-fix badcallback: the same depth, declared instead of explicit") {
  Frame f = analyze(*catalog_program("badcallback-prefix", Variant::Faithful));
  CHECK(f.declared == 48);
  CHECK(f.explicit_adjust == 0);
  CHECK(f.max_depth() == 56);
  CHECK(f.calls[0].residue == 8);
}

TEST_CASE("abi variant: 56-byte frame, aligned calls - entering at RSP = 0 flips the verdicts") {
  Frame abi = analyze(*catalog_program("badsignal", Variant::Abi));
  CHECK(abi.declared == 56);
  CHECK(abi.calls_aligned());
  CHECK(abi.max_depth() == 64);
  Frame shifted = analyze(*catalog_program("badsignal", Variant::Fixed), 0);
  CHECK(shifted.calls_aligned());
  CHECK_FALSE(analyze(*catalog_program("badsignal", Variant::Abi), 0).calls_aligned());
}

TEST_CASE("an unbalanced body and an untracked RSP write are noted") {
  Program p;
  p.symbol = "t";
  p.instrs = {{x86::Inst::kIdSub, {x86::rsp, asmjit::Imm(8)}, {"t.s", 2, 2}},
              {x86::Inst::kIdCall, {x86::rax}, {"t.s", 3, 2}},
              {x86::Inst::kIdRet, {}, {"t.s", 4, 2}}};
  Frame f = analyze(p);
  CHECK_FALSE(f.balanced);
  CHECK(f.calls[0].residue == 0);
  REQUIRE_FALSE(f.notes.empty());
  CHECK(f.notes[0].find("t.s:4:2: RET with RSP 8 bytes below") == 0);
  CHECK(f.notes.back().find("smaller than the home area") != std::string::npos);

  p.instrs.insert(p.instrs.begin(), Instr{x86::Inst::kIdMov, {x86::rsp, x86::rbp}, {"t.s", 1, 2}});
  Frame g = analyze(p);
  CHECK(g.calls.empty());
  CHECK(g.notes[0].find("t.s:1:2: RSP written") == 0);
}

TEST_CASE("branches: every path is followed - paths that meet with different depths are noted") {
  // test ecx, ecx; jz skip; sub rsp, 40; call rax; add rsp, 40; skip: ret
  Program p;
  p.symbol = "t";
  p.instrs = {{x86::Inst::kIdTest, {x86::ecx, x86::ecx}, {"t.s", 1, 2}},
              {x86::Inst::kIdJz, {CodeLabel{"skip"}}, {"t.s", 2, 2}},
              {x86::Inst::kIdSub, {x86::rsp, asmjit::Imm(40)}, {"t.s", 3, 2}},
              {x86::Inst::kIdCall, {x86::rax}, {"t.s", 4, 2}},
              {x86::Inst::kIdAdd, {x86::rsp, asmjit::Imm(40)}, {"t.s", 5, 2}},
              Instr::bind("skip", {"t.s", 6, 1}),
              {x86::Inst::kIdRet, {}, {"t.s", 7, 2}}};
  Frame f = analyze(p);
  CHECK(f.notes.empty());
  CHECK(f.balanced);
  REQUIRE(f.calls.size() == 1);
  CHECK(f.calls[0].aligned());
  CHECK(f.explicit_adjust == 40);

  p.instrs[4] = {x86::Inst::kIdAdd, {x86::rsp, asmjit::Imm(32)}, {"t.s", 5, 2}};  // one path comes back 8 short
  Frame g = analyze(p);
  REQUIRE(g.notes.size() == 2);
  CHECK(g.notes[0] == "t.s:7:2: RET with RSP 8 bytes below its entry value");  // the fall-through path
  CHECK(g.notes[1] == "t.s:7:2: reached with RSP 8 and 0 bytes below entry on different paths");  // the jump
  CHECK_FALSE(g.balanced);

  // An unconditional jump skips what follows it; an indirect one ends the path with a note.
  p.instrs[1] = {x86::Inst::kIdJmp, {CodeLabel{"skip"}}, {"t.s", 2, 2}};
  Frame h = analyze(p);
  CHECK(h.calls.empty());
  CHECK(h.balanced);
  p.instrs[1] = {x86::Inst::kIdJmp, {x86::rax}, {"t.s", 2, 2}};
  CHECK(analyze(p).notes[0] == "t.s:2:2: an indirect jump; its targets are not followed");
}

TEST_CASE("an Image read back from its image file has the same frame facts") {
  for (const char* stub : {"badcallback", "badcallback-prefix"}) {
    CAPTURE(stub);
    auto image = emit(*catalog_program(stub, Variant::Faithful), {});
    REQUIRE(image.ok());
    auto read = from_file(to_file(*image));
    REQUIRE(read.ok());
    const Frame a = analyze_frame(*image), b = analyze_frame(*read);
    CHECK(a.declared == b.declared);
    CHECK(a.explicit_adjust == b.explicit_adjust);
    CHECK(a.stack_args == b.stack_args);
    CHECK(a.locals == b.locals);
    REQUIRE(a.calls.size() == b.calls.size());
    CHECK(a.calls[1].offset == b.calls[1].offset);
    CHECK(a.calls[1].residue == b.calls[1].residue);
    CHECK(b.calls[1].loc.line == 0);  // the file does not know the source
  }
}
