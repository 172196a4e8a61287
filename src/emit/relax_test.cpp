// Jump relaxation against GNU as itself: 500 random programs of jumps, labels and fillers (fixed seed), each
// emitted by w64stub and assembled by GNU as (binutils, installed by tools/bootstrap), must give the same
// bytes. GNU as starts every jump short and grows it until stable; so must emit.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <random>

#include "../testing/test_support.hpp"
#include "w64stub/emit/emit.hpp"

using namespace w64stub;
namespace x86 = asmjit::x86;

namespace {

struct Random {
  Program program;
  std::string gnu;  // the same program in GNU as's Intel syntax
};

// Labels, jumps to them (forward and backward, jmp and jcc) and fillers of 1, 3 and 5 bytes, sized so that
// many jumps sit near the edge of rel8's reach.
Random random_program(std::mt19937& rng, int number) {
  Random r;
  r.program.symbol = fmt::format("p{}", number);
  r.program.loc = {"relax.s", 1, 1};
  const int labels = 2 + static_cast<int>(rng() % 4);
  const int items = 6 + static_cast<int>(rng() % 24);
  std::vector<int> placed(static_cast<size_t>(labels), -1);
  auto add = [&](Instr instr, std::string text) {
    r.program.instrs.push_back(std::move(instr));
    r.gnu += "  " + text + "\n";
  };
  for (int i = 0; i < items || std::find(placed.begin(), placed.end(), -1) != placed.end(); ++i) {
    const int kind = static_cast<int>(rng() % 10);
    const int label = static_cast<int>(rng() % static_cast<unsigned>(labels));
    const std::string name = fmt::format("p{}l{}", number, label);
    if (kind < 2 && placed[static_cast<size_t>(label)] < 0) {
      placed[static_cast<size_t>(label)] = i;
      r.program.instrs.push_back(Instr::bind(name));
      r.gnu += name + ":\n";
    } else if (kind < 4) {
      const bool jcc = rng() % 2;
      add(Instr{jcc ? x86::Inst::kIdJne : x86::Inst::kIdJmp, {CodeLabel{name}}}, fmt::format("{} {}", jcc ? "jne" : "jmp", name));
    } else {
      const int n = 1 + static_cast<int>(rng() % 40);  // a run of fillers
      for (int k = 0; k < n; ++k) {
        switch (rng() % 3) {
          case 0: add(Instr{x86::Inst::kIdNop, {}}, "nop"); break;
          case 1: add(Instr{x86::Inst::kIdAdd, {asmjit::Operand(x86::rax), asmjit::Operand(x86::rbx)}}, "add rax, rbx"); break;
          default: add(Instr{x86::Inst::kIdMov, {asmjit::Operand(x86::eax), asmjit::Operand(asmjit::Imm(0x12345678))}}, "mov eax, 0x12345678");
        }
      }
    }
  }
  add(Instr{x86::Inst::kIdRet, {}}, "ret");
  return r;
}

// Two jumps that each reach their target only when the other is short: shrinking from rel32 keeps both
// long; GNU as, starting short, keeps both short.
Random mutual_pair() {
  Random r;
  r.program.symbol = "p0";
  r.program.loc = {"relax.s", 1, 1};
  auto nops = [&](int n) {
    for (int k = 0; k < n; ++k) r.program.instrs.push_back(Instr{x86::Inst::kIdNop, {}}), r.gnu += "  nop\n";
  };
  r.program.instrs.push_back(Instr::bind("p0k"));
  r.gnu += "p0k:\n";
  r.program.instrs.push_back(Instr{x86::Inst::kIdJmp, {CodeLabel{"p0l"}}});
  r.gnu += "  jmp p0l\n";
  nops(122);
  r.program.instrs.push_back(Instr{x86::Inst::kIdJmp, {CodeLabel{"p0k"}}});
  r.gnu += "  jmp p0k\n";
  nops(2);
  r.program.instrs.push_back(Instr::bind("p0l"));
  r.gnu += "p0l:\n";
  r.program.instrs.push_back(Instr{x86::Inst::kIdRet, {}});
  r.gnu += "  ret\n";
  return r;
}

}  // namespace

TEST_CASE("jump relaxation equals GNU as's on 500 random programs (fixed seed)") {
  constexpr int kPrograms = 500;
  std::mt19937 rng(20121127);
  std::vector<Random> programs;
  // One GNU as run: each program at its own 8 KiB boundary, so each relaxes on its own.
  std::string source = ".intel_syntax noprefix\n.text\n";
  for (int i = 0; i < kPrograms; ++i) {
    programs.push_back(i == 0 ? mutual_pair() : random_program(rng, i));
    source += fmt::format(".balign 8192, 0xcc\n{}", programs.back().gnu);
  }
  const std::string gnu = test::gnu_as_text(source, "relax");
  REQUIRE_MESSAGE(!gnu.empty(), "GNU as (binutils) is needed: tools/bootstrap installs it");
  int short_jumps = 0;
  for (int i = 0; i < kPrograms; ++i) {
    CAPTURE(i);
    auto image = emit(programs[static_cast<size_t>(i)].program, {.model = Model::Rip});
    REQUIRE_MESSAGE(image.ok(), image.error().message);
    const std::string ours(image->text.bytes.begin(), image->text.bytes.begin() + image->code_size);
    REQUIRE(gnu.size() >= static_cast<size_t>(i) * 8192 + ours.size());
    CHECK_MESSAGE(ours == gnu.substr(static_cast<size_t>(i) * 8192, ours.size()), programs[static_cast<size_t>(i)].gnu);
    for (const InstrInfo& in : image->instrs) short_jumps += in.length == 2 && (image->text.bytes[in.offset] == 0xeb || image->text.bytes[in.offset] == 0x75);
  }
  CHECK(short_jumps > 500);  // the programs do exercise rel8
}
